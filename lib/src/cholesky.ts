import { InputError } from "./errors";

/**
 * Symmetric positive-definite linear systems A x = b by Cholesky factorisation (A = L Lᵀ), in
 * float64: the normal equations of ridge regression (latent directions) and the Newton steps of
 * penalised logistic regression (the realism discriminator). Matrices are row-major n × n.
 */

/** The lower-triangular factor L of A shape=(n, n) (row-major); an InputError when A is not positive definite. */
export function cholesky(A: Float64Array, n: number): Float64Array {
  if (A.length !== n * n) throw new InputError(`a ${n} × ${n} matrix needs ${n * n} values, got ${A.length}`);
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j]!;
      for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]!;
      if (i === j) {
        if (!(s > 0)) throw new InputError("the matrix is not positive definite");
        L[i * n + i] = Math.sqrt(s);
      } else L[i * n + j] = s / L[j * n + j]!;
    }
  }
  return L;
}

/** Solves L Lᵀ x = b for x, given the factor L shape=(n, n) of {@link cholesky}; b shape=(n,). */
export function choleskySolve(L: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i * n + k]! * y[k]!;
    y[i] = s / L[i * n + i]!;
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * x[k]!;
    x[i] = s / L[i * n + i]!;
  }
  return x;
}
