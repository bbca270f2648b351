/**
 * The binding experiment's configurations (lib/src/binding/experiment.ts): the `mirna-dl train`
 * arguments of each, and the control configurations that follow another run (the experiment
 * itself runs in notebooks/model_train_lock.ipynb).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BindingConfig, checkControls, trainArguments, trainingOrder } from "../lib/src/binding/experiment";

const tables = { chr1: "split/train_positives.tsv.gz", clash: "clash.tsv.gz", splitDir: "split" };
const improved: BindingConfig = { name: "iterative_improved", mode: "iterative", variant: "improved", iterations: 28, positivesPerIteration: 1000, validationPositives: 1000, maxRatio: 20 };

test("trainArguments: the existing configurations' commands are unchanged; controls add what they resolved", () => {
  assert.deepEqual(trainArguments({ name: "standard_5k_ratio10", mode: "standard", positives: 5000, ratio: 10, epochs: 10 }, 2, tables, "out/s5k"),
    ["train", "--mode", "standard", "--seed", "2", "--out", "out/s5k", "--resume", "-q", "--train", "split/train_positives.tsv.gz", "--positives", "5000", "--ratio", "10", "--epochs", "10"]);
  assert.deepEqual(trainArguments(improved, 1, tables, "out/it"),
    ["train", "--mode", "iterative", "--seed", "1", "--out", "out/it", "--resume", "-q", "--train", "split/train_positives.tsv.gz", "--variant", "improved", "--iterations", "28", "--positives-per-iteration", "1000", "--validation-positives", "1000", "--max-ratio", "20"]);
  const samePositives: BindingConfig = { name: "standard_itpos_ratio10", mode: "standard", ratio: 10, epochs: 10, positivesFrom: "iterative_improved" };
  assert.deepEqual(trainArguments(samePositives, 1, tables, "out/c", { positiveRows: "out/it/positive_rows.tsv" }).slice(9),
    ["--train", "split/train_positives.tsv.gz", "--positive-rows", "out/it/positive_rows.tsv", "--ratio", "10", "--epochs", "10"]);
  const sameSteps: BindingConfig = { name: "standard_1k_ratio10_itsteps", mode: "standard", positives: 1000, ratio: 10, stepsFrom: "iterative_improved" };
  assert.deepEqual(trainArguments(sameSteps, 1, tables, "out/e", { epochs: 16 }).slice(9),
    ["--train", "split/train_positives.tsv.gz", "--positives", "1000", "--ratio", "10", "--epochs", "16"]);
});

test("trainArguments in the CLASH setting: given negatives, the seed family, the selection tables", () => {
  const clash = { ...tables, chr1: "clash_train.tsv.gz", select: ["eval_1_1.tsv.gz", "eval_1_10.tsv.gz"] };
  assert.deepEqual(trainArguments({ name: "standard_given", mode: "standard", negatives: "given", epochs: 10, select: true }, 1, clash, "out/g").slice(9),
    ["--train", "clash_train.tsv.gz", "--select", "eval_1_1.tsv.gz,eval_1_10.tsv.gz", "--negatives", "given", "--epochs", "10"]);
  assert.deepEqual(trainArguments({ ...improved, negativeFamily: "seed", select: true }, 1, clash, "out/i").slice(9, 15),
    ["--train", "clash_train.tsv.gz", "--negative-family", "seed", "--select", "eval_1_1.tsv.gz,eval_1_10.tsv.gz"]);
  assert.throws(() => trainArguments({ name: "s", mode: "standard", select: true }, 1, tables, "out/s"), /s: select needs selection tables/);
});

test("control configurations must follow a plain configuration of the experiment", () => {
  const control = (c: Partial<BindingConfig>): BindingConfig => ({ name: "control", mode: "standard", ratio: 10, ...c });
  checkControls([improved, control({ positivesFrom: "iterative_improved" }), control({ name: "steps", positives: 1000, stepsFrom: "iterative_improved" })]);
  assert.throws(() => checkControls([control({ positivesFrom: "nope" })]), /control: positivesFrom names 'nope', which is not a configuration of this experiment \(control\)/);
  assert.throws(() => checkControls([improved, control({ positivesFrom: "iterative_improved", positives: 1000 })]), /control: positivesFrom takes the positives/);
  assert.throws(() => checkControls([improved, control({ stepsFrom: "iterative_improved", epochs: 3 })]), /control: stepsFrom sets the epochs/);
  assert.throws(() => checkControls([{ ...improved, name: "best", withClash: true }, control({ positivesFrom: "best" })]), /positivesFrom needs an iterative configuration without CLASH, 'best' is not/);
  assert.throws(() => checkControls([improved, control({ name: "a", positivesFrom: "iterative_improved" }), control({ name: "b", stepsFrom: "a" })]), /b: stepsFrom names 'a', itself a control/);
  assert.throws(() => checkControls([improved, { ...improved, name: "x", positivesFrom: "iterative_improved" }]), /x: positivesFrom goes with mode "standard"/);
});

test("trainingOrder: the run a long control follows goes first, then by own work; ties keep their order", () => {
  const configs: BindingConfig[] = [
    { name: "standard_1k_ratio1", mode: "standard", positives: 1000, ratio: 1, epochs: 10 },
    { name: "standard_5k_ratio10", mode: "standard", positives: 5000, ratio: 10, epochs: 10 },
    { name: "iterative_faithful", mode: "iterative", variant: "faithful", iterations: 28, positivesPerIteration: 1000, minibatches: 500 },
    improved,
    { ...improved, name: "best", withClash: true },
    { name: "standard_itpos_ratio10", mode: "standard", ratio: 10, epochs: 10, positivesFrom: "iterative_improved" },
    { name: "standard_1k_ratio10_itsteps", mode: "standard", positives: 1000, ratio: 10, stepsFrom: "iterative_improved" },
  ];
  // iterative_improved starts the 28 × 1,000 × 11 × 10-row control; the 5k run (550k rows) is the
  // longest without one; the three 280k-row runs keep their order; the 1k run is last.
  assert.deepEqual(trainingOrder(configs), [
    "iterative_improved", "standard_itpos_ratio10", "standard_5k_ratio10", "iterative_faithful", "best", "standard_1k_ratio10_itsteps", "standard_1k_ratio1",
  ]);
});
