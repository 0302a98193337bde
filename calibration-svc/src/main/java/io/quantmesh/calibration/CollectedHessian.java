package io.quantmesh.calibration;

/**
 * One site's result: {@code h = (2/n) Σ x xᵀ}, {@code dim × dim} row-major float64, over n = {@code tokens}.
 */
public record CollectedHessian(HessianSite site, int dim, long tokens, double[] h) {}
