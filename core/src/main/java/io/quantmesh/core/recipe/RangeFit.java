package io.quantmesh.core.recipe;

/**
 * How a scalar recipe fits each group's range (quant-svc's ScalarGroupQuantizer implements them):
 * <ul>
 *   <li>{@link #MIN_MAX}: [min, max] of the row's group values;</li>
 *   <li>{@link #CLIP_SEARCH}: BitDistiller's asymmetric clipping: [α·min, β·max] with the smallest squared
 *       round-trip error;</li>
 *   <li>{@link #WEIGHTED_CLIP_SEARCH}: the same, each column's error weighted by its H_jj, exactly the group's share
 *       of the proxy loss when H is diagonal (unweighted without a Hessian).</li>
 * </ul>
 */
public enum RangeFit { MIN_MAX, CLIP_SEARCH, WEIGHTED_CLIP_SEARCH }
