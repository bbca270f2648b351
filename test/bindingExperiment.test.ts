/**
 * The binding experiment's configurations (lib/src/binding/experiment.ts): the `mirna-dl train`
 * arguments of each, and the control configurations that follow another run (the experiment
 * itself runs in notebooks/model_train_lock.ipynb).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BindingConfig, checkControls, trainArguments } from "../lib/src/binding/experiment";

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
