import { InputError, InputLocation } from "../errors";
import { normaliseRnaSequence } from "./rna";

/**
 * The pre-miRNA hairpin image of Cordero, Menkovski & Allmer 2019 ("Detection of pre-microRNA
 * with Convolutional Neural Networks", bioRxiv 840579; code and data github.com/jacordero/deepmir):
 * a 25 × 100 RGB picture of the folded hairpin, column 0 = terminal-loop apex, the 5' arm drawn
 * upwards from row 12, the 3' arm downwards from row 13, one colour per nucleotide and bar
 * lengths that encode pairing. Encoding goes through an explicit column form
 * ({@link HairpinColumns}), which describes an image losslessly: {@link renderHairpinColumns}
 * draws it and {@link decodeHairpinImage} reads it back.
 */

export const HAIRPIN_IMAGE_HEIGHT = 25;
export const HAIRPIN_IMAGE_WIDTH = 100;
/** Colour channels (RGB) and bytes of one image: 25 × 100 × 3. */
export const HAIRPIN_IMAGE_CHANNELS = 3;
export const HAIRPIN_IMAGE_SIZE = HAIRPIN_IMAGE_HEIGHT * HAIRPIN_IMAGE_WIDTH * HAIRPIN_IMAGE_CHANNELS;
/** Longest sequence an image can hold: 100 columns of at most two nucleotides (one per arm). */
export const MAX_HAIRPIN_LENGTH = 2 * HAIRPIN_IMAGE_WIDTH;
/** Row of the upper (5' arm) bar base; the upper bar grows upwards from here. */
export const UPPER_BASE_ROW = 12;
/** Row of the lower (3' arm) bar base; the lower bar grows downwards from here. */
export const LOWER_BASE_ROW = 13;
/** Longest drawable upper bar (rows 0…12). */
export const MAX_UPPER_LENGTH = UPPER_BASE_ROW;
/** Longest drawable lower bar (rows 13…24). */
export const MAX_LOWER_LENGTH = HAIRPIN_IMAGE_HEIGHT - 1 - LOWER_BASE_ROW;

/** A hairpin image: RGB bytes, row 0 = top, white background. */
export interface HairpinImage {
  height: 25;
  width: 100;
  /** Uint8Array, shape=(25, 100, 3), row-major. */
  data: Uint8Array;
}

/** What one half of a column shows: a nucleotide or a gap ("-", drawn black). */
export type HairpinSymbol = "A" | "C" | "G" | "U" | "-";

/**
 * One image column. Bar length `len` covers `len + 1` pixels: rows 12−len…12 (upper) and
 * 13…13+len (lower).
 */
export interface HairpinColumn {
  /** 5'-arm nucleotide (row 12) or gap. */
  upper: HairpinSymbol;
  /** 3'-arm nucleotide (row 13) or gap. */
  lower: HairpinSymbol;
  /** True when the column is a stem pair: both nucleotides, both bars of the base length. */
  paired: boolean;
  /** Upper bar length, 0–12. */
  upperLength: number;
  /** Lower bar length, 0–11. */
  lowerLength: number;
}

/** The column form of a hairpin image: column 0 = loop apex, at most 100 columns. */
export type HairpinColumns = HairpinColumn[];

/** RGB colour of each symbol (Cordero et al. 2019), and white for the background. */
export const HAIRPIN_COLOURS: Readonly<Record<HairpinSymbol, readonly [number, number, number]>> = {
  A: [255, 255, 0],
  C: [0, 0, 255],
  G: [255, 0, 0],
  U: [0, 255, 0],
  "-": [0, 0, 0],
};
export const HAIRPIN_WHITE: readonly [number, number, number] = [255, 255, 255];

const SYMBOLS: readonly HairpinSymbol[] = ["A", "C", "G", "U", "-"];

/**
 * Base bar length b of a column (Cordero et al. 2019): a gap on either side → 1; G–C → 1;
 * A–U → 2; G–U → 3; any other pair → 4 (either orientation).
 */
export function baseBarLength(upper: HairpinSymbol, lower: HairpinSymbol): number {
  if (upper === "-" || lower === "-") return 1;
  const pair = upper < lower ? upper + lower : lower + upper;
  switch (pair) {
    case "CG":
      return 1;
    case "AU":
      return 2;
    case "GU":
      return 3;
    default:
      return 4;
  }
}

/** Position of the terminal loop in a dot-bracket: `(` at `open`, `)` at `close`. */
export interface TerminalLoop {
  open: number;
  close: number;
}

/**
 * The terminal loop (Cordero et al. 2019): among the substrings matching `(` + one or more `.` +
 * `)`, the one whose start or end is closest to floor(length / 2), the first on ties; null when
 * there is none. As in the original encoder (a Java regex match), "end" is the index just after
 * the `)` (exclusive end), not the index of the `)`: the golden images need this.
 */
export function findTerminalLoop(dotBracket: string): TerminalLoop | null {
  const middle = Math.floor(dotBracket.length / 2);
  let best: TerminalLoop | null = null;
  let bestDistance = Infinity;
  for (let open = 0; open < dotBracket.length; open++) {
    if (dotBracket[open] !== "(" || dotBracket[open + 1] !== ".") continue;
    let close = open + 1;
    while (dotBracket[close] === ".") close++;
    if (dotBracket[close] !== ")") continue;
    const distance = Math.min(Math.abs(open - middle), Math.abs(close + 1 - middle));
    if (distance < bestDistance) {
      best = { open, close };
      bestDistance = distance;
    }
    open = close;
  }
  return best;
}

/** Throws unless `dotBracket` has only `(`, `)`, `.`, is balanced and as long as the sequence. */
function validateDotBracket(dotBracket: string, sequenceLength: number, where: InputLocation): void {
  if (dotBracket.length !== sequenceLength) {
    throw new InputError(
      `structure has length ${dotBracket.length} but the sequence has ${sequenceLength} nt`,
      where,
    );
  }
  let depth = 0;
  for (let i = 0; i < dotBracket.length; i++) {
    const ch = dotBracket[i];
    if (ch === "(") depth++;
    else if (ch === ")") {
      depth--;
      if (depth < 0) throw new InputError(`unbalanced structure: ')' at position ${i + 1} closes nothing`, where);
    } else if (ch !== ".") {
      throw new InputError(
        `structure has '${ch}' at position ${i + 1} (expected dot-bracket: '(', ')', '.')`,
        where,
      );
    }
  }
  if (depth !== 0) throw new InputError(`unbalanced structure: ${depth} '(' never closed`, where);
}

/** Mark of one half of a column for {@link barLengths}: 0 paired, 1 unpaired, 2 gap. */
export type BarMark = 0 | 1 | 2;

/** Mark of one half of an aligned column (internal): which rule sets its bar length. */
const enum Mark {
  Paired,
  Unpaired,
  Gap,
}

/**
 * Bar lengths of one half (Cordero et al. 2019): paired and gap halves get b; an unpaired half at
 * x gets extra length from its run [j+1, k) of unpaired marks. P = j + k + 1 is the run length
 * only for a run starting at column 0; later runs get rising ramps — a quirk of the original
 * encoder that the datasets contain, kept on purpose.
 */
export function barLengths(marks: readonly (Mark | BarMark)[], base: readonly number[]): number[] {
  const n = marks.length;
  const lengths = new Array<number>(n);
  let x = 0;
  while (x < n) {
    if (marks[x] !== Mark.Unpaired) {
      lengths[x] = base[x]!;
      x++;
      continue;
    }
    const j = x - 1;
    let k = x;
    while (k < n && marks[k] === Mark.Unpaired) k++;
    const P = j + k + 1;
    const h = Math.floor(P / 2);
    for (let y = x; y < k; y++) {
      const p = y - j;
      lengths[y] = base[y]! + (p > h ? 2 * (P - p + 1) : 2 * p);
    }
    x = k;
  }
  return lengths;
}

/**
 * The column form of the hairpin image of `sequence` folded as `dotBracket` (Cordero et al. 2019):
 * terminal loop, stem alignment (multi-branch folds lose nucleotides, as in the original),
 * columns reversed so column 0 is the loop apex, bar lengths with the unpaired-run ramp.
 * The result is what the image shows: bars clipped to 12 (upper) / 11 (lower) and columns cut
 * at 100. The sequence is normalised (T→U, upper case). Throws an {@link InputError} (naming
 * `where`) for an empty sequence, non-RNA letters, a structure of another length, unbalanced
 * brackets, or no terminal loop.
 */
export function hairpinColumns(sequence: string, dotBracket: string, where: InputLocation = {}): HairpinColumns {
  const seq = normaliseRnaSequence(sequence, where);
  const fold = dotBracket.trim();
  validateDotBracket(fold, seq.length, where);
  const loop = findTerminalLoop(fold);
  if (!loop) {
    throw new InputError(
      `structure '${fold.length > 60 ? fold.slice(0, 57) + "..." : fold}' has no terminal loop ('(' + unpaired + ')'), so it cannot be drawn as a hairpin`,
      where,
    );
  }
  // 5' part: positions 0 … close−1, walked forwards; 3' part: positions n−1 … open+1, walked
  // backwards (so the loop nucleotides appear on both sides, mirrored).
  const upper: HairpinSymbol[] = [];
  const lower: HairpinSymbol[] = [];
  const upperMarks: Mark[] = [];
  const lowerMarks: Mark[] = [];
  let i = 0;
  let j = seq.length - 1;
  while (i < loop.close && j > loop.open) {
    const unpaired5 = fold[i] === ".";
    const unpaired3 = fold[j] === ".";
    if (unpaired5 && unpaired3) {
      upper.push(seq[i++] as HairpinSymbol);
      lower.push(seq[j--] as HairpinSymbol);
      upperMarks.push(Mark.Unpaired);
      lowerMarks.push(Mark.Unpaired);
    } else if (unpaired5) {
      upper.push(seq[i++] as HairpinSymbol);
      lower.push("-");
      upperMarks.push(Mark.Unpaired);
      lowerMarks.push(Mark.Gap);
    } else if (unpaired3) {
      upper.push("-");
      lower.push(seq[j--] as HairpinSymbol);
      upperMarks.push(Mark.Gap);
      lowerMarks.push(Mark.Unpaired);
    } else {
      upper.push(seq[i++] as HairpinSymbol);
      lower.push(seq[j--] as HairpinSymbol);
      upperMarks.push(Mark.Paired);
      lowerMarks.push(Mark.Paired);
    }
  }
  upper.reverse();
  lower.reverse();
  upperMarks.reverse();
  lowerMarks.reverse();
  const base = upper.map((u, x) => baseBarLength(u, lower[x]!));
  const upperLengths = barLengths(upperMarks, base);
  const lowerLengths = barLengths(lowerMarks, base);
  const drawn = Math.min(upper.length, HAIRPIN_IMAGE_WIDTH);
  const columns: HairpinColumns = new Array(drawn);
  for (let x = 0; x < drawn; x++) {
    columns[x] = {
      upper: upper[x]!,
      lower: lower[x]!,
      paired: upperMarks[x] === Mark.Paired,
      upperLength: Math.min(upperLengths[x]!, MAX_UPPER_LENGTH),
      lowerLength: Math.min(lowerLengths[x]!, MAX_LOWER_LENGTH),
    };
  }
  return columns;
}

/** A white 25 × 100 image (data shape=(25, 100, 3), all 255). */
export function blankHairpinImage(): HairpinImage {
  return {
    height: HAIRPIN_IMAGE_HEIGHT,
    width: HAIRPIN_IMAGE_WIDTH,
    data: new Uint8Array(HAIRPIN_IMAGE_HEIGHT * HAIRPIN_IMAGE_WIDTH * 3).fill(255),
  };
}

function checkColumn(column: HairpinColumn, x: number): void {
  const bad = (what: string) => new InputError(`hairpin column ${x}: ${what}`);
  if (!SYMBOLS.includes(column.upper)) throw bad(`upper symbol '${column.upper}' is not one of A, C, G, U, -`);
  if (!SYMBOLS.includes(column.lower)) throw bad(`lower symbol '${column.lower}' is not one of A, C, G, U, -`);
  if (!Number.isInteger(column.upperLength) || column.upperLength < 0 || column.upperLength > MAX_UPPER_LENGTH) {
    throw bad(`upper bar length ${column.upperLength} is not an integer 0–${MAX_UPPER_LENGTH}`);
  }
  if (!Number.isInteger(column.lowerLength) || column.lowerLength < 0 || column.lowerLength > MAX_LOWER_LENGTH) {
    throw bad(`lower bar length ${column.lowerLength} is not an integer 0–${MAX_LOWER_LENGTH}`);
  }
}

/**
 * Draws a column form (Cordero et al. 2019): for column x, the upper symbol's colour in rows
 * 12−upperLength…12 and the lower symbol's colour in rows 13…13+lowerLength, on white.
 * `paired` is not drawn (it follows from the bars). Throws an {@link InputError} for more than
 * 100 columns, unknown symbols or bar lengths out of range.
 */
export function renderHairpinColumns(columns: readonly HairpinColumn[]): HairpinImage {
  if (columns.length > HAIRPIN_IMAGE_WIDTH) {
    throw new InputError(`${columns.length} hairpin columns, an image holds at most ${HAIRPIN_IMAGE_WIDTH}`);
  }
  const image = blankHairpinImage();
  const data = image.data;
  const rowStride = HAIRPIN_IMAGE_WIDTH * 3;
  for (let x = 0; x < columns.length; x++) {
    const column = columns[x]!;
    checkColumn(column, x);
    const [ur, ug, ub] = HAIRPIN_COLOURS[column.upper];
    for (let row = UPPER_BASE_ROW - column.upperLength; row <= UPPER_BASE_ROW; row++) {
      const at = row * rowStride + x * 3;
      data[at] = ur;
      data[at + 1] = ug;
      data[at + 2] = ub;
    }
    const [lr, lg, lb] = HAIRPIN_COLOURS[column.lower];
    for (let row = LOWER_BASE_ROW; row <= LOWER_BASE_ROW + column.lowerLength; row++) {
      const at = row * rowStride + x * 3;
      data[at] = lr;
      data[at + 1] = lg;
      data[at + 2] = lb;
    }
  }
  return image;
}

/**
 * The hairpin image of `sequence` folded as `dotBracket` (Cordero et al. 2019), e.g. the MFE
 * structure from {@link foldSequences}: `renderHairpinColumns(hairpinColumns(...))`. Returns a
 * {@link HairpinImage}, data shape=(25, 100, 3). Errors as {@link hairpinColumns}.
 */
export function encodeHairpinImage(sequence: string, dotBracket: string, where: InputLocation = {}): HairpinImage {
  return renderHairpinColumns(hairpinColumns(sequence, dotBracket, where));
}

/** Text letter of each pixel colour in {@link hairpinImageRows}. */
const PIXEL_LETTERS: Readonly<Record<string, string>> = {
  "255,255,255": ".",
  "255,255,0": "A",
  "0,0,255": "C",
  "255,0,0": "G",
  "0,255,0": "U",
  "0,0,0": "k",
};

/** Code of one pixel: 0 white, 1 A, 2 C, 3 G, 4 U, 5 gap (black), −1 any other colour. */
function pixelCode(data: Uint8Array, at: number): number {
  const r = data[at]!;
  const g = data[at + 1]!;
  const b = data[at + 2]!;
  if (r === 255 && g === 255 && b === 255) return 0;
  if (r === 255 && g === 255 && b === 0) return 1;
  if (r === 0 && g === 0 && b === 255) return 2;
  if (r === 255 && g === 0 && b === 0) return 3;
  if (r === 0 && g === 255 && b === 0) return 4;
  if (r === 0 && g === 0 && b === 0) return 5;
  return -1;
}
const CODE_SYMBOL: readonly (HairpinSymbol | null)[] = [null, "A", "C", "G", "U", "-"];

function checkImageShape(image: HairpinImage): void {
  const expected = HAIRPIN_IMAGE_HEIGHT * HAIRPIN_IMAGE_WIDTH * 3;
  if (image.height !== HAIRPIN_IMAGE_HEIGHT || image.width !== HAIRPIN_IMAGE_WIDTH || image.data.length !== expected) {
    throw new InputError(
      `hairpin image must be ${HAIRPIN_IMAGE_HEIGHT} × ${HAIRPIN_IMAGE_WIDTH} RGB (${expected} bytes), got ${image.height} × ${image.width} with ${image.data.length} bytes`,
    );
  }
}

/**
 * The image as 25 text rows of 100 letters (the golden-fixture format): `.` white, `A` yellow,
 * `C` blue, `G` red, `U` green, `k` black, `?` any other colour. For readable diffs.
 */
export function hairpinImageRows(image: HairpinImage): string[] {
  checkImageShape(image);
  const rows: string[] = [];
  for (let row = 0; row < HAIRPIN_IMAGE_HEIGHT; row++) {
    let text = "";
    for (let x = 0; x < HAIRPIN_IMAGE_WIDTH; x++) {
      const at = (row * HAIRPIN_IMAGE_WIDTH + x) * 3;
      text += PIXEL_LETTERS[`${image.data[at]},${image.data[at + 1]},${image.data[at + 2]}`] ?? "?";
    }
    rows.push(text);
  }
  return rows;
}

/** What {@link decodeHairpinImage} reads from an image. */
export interface DecodedHairpin {
  /** The column form; `paired` = both nucleotides and both bars of the base length. */
  columns: HairpinColumns;
  /** reverse(upper nucleotides) + lower nucleotides from column `loopLength` on (gaps dropped). */
  sequence: string;
  /** Index of the first paired column (terminal-loop length); the column count if none is paired. */
  loopLength: number;
}

export interface DecodeHairpinOptions {
  /**
   * Also check that the image is exactly the drawing of the decoded columns (no stray pixels,
   * no gaps inside bars); default true. Unknown colours are always an error.
   */
  verify?: boolean;
}

/**
 * Reads a hairpin image back into its column form and sequence. Per column, the
 * colours of rows 12 and 13 give the upper and lower symbols, the run of that colour from row
 * 12 upwards / row 13 downwards (minus 1) the bar lengths; decoding stops at the first column
 * white on both rows. Throws an {@link InputError} naming the pixel for a colour that is not
 * one of the six, for a half-white column, and (with `verify`) for a pixel that differs from
 * the re-drawn columns.
 */
export function decodeHairpinImage(image: HairpinImage, opts: DecodeHairpinOptions = {}): DecodedHairpin {
  checkImageShape(image);
  const data = image.data;
  const pixel = (row: number, x: number): number => {
    const at = (row * HAIRPIN_IMAGE_WIDTH + x) * 3;
    const code = pixelCode(data, at);
    if (code < 0) {
      throw new InputError(
        `hairpin image pixel (row ${row}, column ${x}) has colour (${data[at]}, ${data[at + 1]}, ${data[at + 2]}), not one of white, A yellow, C blue, G red, U green, gap black`,
      );
    }
    return code;
  };
  const columns: HairpinColumns = [];
  for (let x = 0; x < HAIRPIN_IMAGE_WIDTH; x++) {
    const upperCode = pixel(UPPER_BASE_ROW, x);
    const lowerCode = pixel(LOWER_BASE_ROW, x);
    if (upperCode === 0 && lowerCode === 0) break;
    if (upperCode === 0 || lowerCode === 0) {
      const row = upperCode === 0 ? UPPER_BASE_ROW : LOWER_BASE_ROW;
      throw new InputError(`hairpin image pixel (row ${row}, column ${x}) is white but the other half of the column is drawn`);
    }
    let upperLength = 0;
    while (upperLength < MAX_UPPER_LENGTH && pixel(UPPER_BASE_ROW - upperLength - 1, x) === upperCode) upperLength++;
    let lowerLength = 0;
    while (lowerLength < MAX_LOWER_LENGTH && pixel(LOWER_BASE_ROW + lowerLength + 1, x) === lowerCode) lowerLength++;
    const upper = CODE_SYMBOL[upperCode]!;
    const lower = CODE_SYMBOL[lowerCode]!;
    const base = baseBarLength(upper, lower);
    const paired = upper !== "-" && lower !== "-" && upperLength === base && lowerLength === base;
    columns.push({ upper, lower, paired, upperLength, lowerLength });
  }
  if (opts.verify ?? true) {
    const redrawn = renderHairpinColumns(columns).data;
    for (let at = 0; at < data.length; at += 3) {
      if (data[at] !== redrawn[at] || data[at + 1] !== redrawn[at + 1] || data[at + 2] !== redrawn[at + 2]) {
        const row = Math.floor(at / 3 / HAIRPIN_IMAGE_WIDTH);
        const x = (at / 3) % HAIRPIN_IMAGE_WIDTH;
        pixel(row, x); // an unknown colour is reported as such
        throw new InputError(
          `hairpin image pixel (row ${row}, column ${x}) is not part of a hairpin drawing (stray pixel, or a bar with a hole)`,
        );
      }
    }
  }
  return { columns, ...hairpinColumnsSequence(columns) };
}

/**
 * The sequence a column form shows: reverse(upper nucleotides) + lower nucleotides
 * from the first paired column on, gaps dropped; and that column's index (the loop length).
 */
export function hairpinColumnsSequence(columns: readonly HairpinColumn[]): { sequence: string; loopLength: number } {
  let loopLength = columns.findIndex((column) => column.paired);
  if (loopLength < 0) loopLength = columns.length;
  let upper = "";
  for (let x = columns.length - 1; x >= 0; x--) if (columns[x]!.upper !== "-") upper += columns[x]!.upper;
  let lower = "";
  for (let x = loopLength; x < columns.length; x++) if (columns[x]!.lower !== "-") lower += columns[x]!.lower;
  return { sequence: upper + lower, loopLength };
}
