import { InputError } from "../errors";
import { quantile } from "../metrics";
import { findTerminalLoop } from "../hairpin/image";
import { FoldOptions, foldSequences } from "../hairpin/rnafold";
import { CANONICAL_HAIRPIN } from "./data";

/**
 * The hairpin sanity rules a generated hairpin is checked against, on RNAfold's fold of its
 * sequence: one terminal loop, a stem and a loop of a canonical pre-miRNA's size
 * (CANONICAL_HAIRPIN, data.ts), and a stability per nucleotide within that of real pre-miRNAs.
 * The rules of a model are stored with it (`cvae.json`, saved.ts); evaluate.ts applies them to
 * generated samples.
 */

/** The hairpin sanity rules: one terminal loop, a stem and a loop of a canonical pre-miRNA's size, a real pre-miRNA's stability per nucleotide. */
export interface SanityRules {
  /** Fewest base pairs of the fold. Default 18. */
  minStemPairs: number;
  /** Terminal-loop size range, nt. Default 3–20. */
  loopRange: [number, number];
  /** MFE per nucleotide range (kcal/mol/nt), e.g. the 1st–99th percentile of real pre-miRNAs. */
  mfePerNtRange: [number, number];
}

/** One sample's sanity verdict, rule by rule, on RNAfold's fold of its sequence. */
export interface SanityResult {
  /** Hairpin loops in the fold ('(' + unpaired + ')'). */
  hairpinLoops: number;
  /** Base pairs in the fold. */
  stemPairs: number;
  /** Unpaired nucleotides of the terminal loop (0 when there is none). */
  loopSize: number;
  mfePerNt: number;
  oneLoop: boolean;
  stemOk: boolean;
  loopOk: boolean;
  mfeOk: boolean;
  /** All four rules hold. */
  pass: boolean;
}

/** Number of hairpin loops ('(' followed by one or more '.' then ')') of a dot-bracket. */
export function countHairpinLoops(structure: string): number {
  return (structure.match(/\(\.+\)/g) ?? []).length;
}

/** The sanity rules applied to one fold (`mfe` in kcal/mol, for the whole sequence). */
export function hairpinSanity(structure: string, mfe: number, rules: SanityRules): SanityResult {
  const hairpinLoops = countHairpinLoops(structure);
  let stemPairs = 0;
  for (const ch of structure) if (ch === "(") stemPairs++;
  const loop = findTerminalLoop(structure);
  const loopSize = loop ? loop.close - loop.open - 1 : 0;
  const mfePerNt = structure.length ? mfe / structure.length : 0;
  const oneLoop = hairpinLoops === 1;
  const stemOk = stemPairs >= rules.minStemPairs;
  const loopOk = loopSize >= rules.loopRange[0] && loopSize <= rules.loopRange[1];
  const mfeOk = mfePerNt >= rules.mfePerNtRange[0] && mfePerNt <= rules.mfePerNtRange[1];
  return { hairpinLoops, stemPairs, loopSize, mfePerNt, oneLoop, stemOk, loopOk, mfeOk, pass: oneLoop && stemOk && loopOk && mfeOk };
}

/**
 * The sanity rules with the MFE-per-nt range taken from real hairpins: their folds' MFE / length,
 * 1st to 99th percentile (by default). Returns the rules and the real values.
 */
export async function sanityRulesFrom(realSequences: readonly string[], opts: { lower?: number; upper?: number; fold?: FoldOptions } = {}): Promise<{ rules: SanityRules; mfePerNt: number[] }> {
  const folded = await foldSequences(realSequences, opts.fold);
  const mfePerNt = folded.map((f) => f.mfe / f.sequence.length);
  const range: [number, number] = [quantile(mfePerNt, opts.lower ?? 0.01), quantile(mfePerNt, opts.upper ?? 0.99)];
  return { rules: { minStemPairs: CANONICAL_HAIRPIN.minStemPairs, loopRange: [...CANONICAL_HAIRPIN.loopRange], mfePerNtRange: range }, mfePerNt };
}
