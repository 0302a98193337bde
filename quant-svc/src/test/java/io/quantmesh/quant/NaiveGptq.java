package io.quantmesh.quant;

import io.quantmesh.core.linalg.Cholesky;
import io.quantmesh.core.linalg.FloatMatrix;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Textbook GPTQ/OBQ, column by column, with the full inverse Hessian and its rank-one downdate after each
 * column: {@code W[:, k] −= (w_j − q_j)/Hinv_jj · Hinv_jk} for all k > j, then
 * {@code Hinv ← Hinv − Hinv[:, j]·Hinv[j, :]/Hinv_jj}. Weights are kept in double. The reference twin of the
 * blocked, lazy-batch, banded {@link GptqLoop}.
 */
final class NaiveGptq {
    private NaiveGptq() {}

    static <C> float[] quantize(float[] w0, int rows, int cols, double[] h0, ColumnQuantizer<C> quantizer,
            double dampening, boolean actOrder) {
        double[] h = h0.clone();
        boolean[] dead = new boolean[cols];
        for (int j = 0; j < cols; j++) {
            if (h[j * cols + j] == 0) {
                dead[j] = true;
                h[j * cols + j] = 1;
            }
        }
        int[] perm = actOrder
                ? IntStream.range(0, cols).boxed()
                        .sorted(Comparator.comparingDouble((Integer j) -> -h[j * cols + j]).thenComparingInt(j -> j))
                        .mapToInt(Integer::intValue).toArray()
                : IntStream.range(0, cols).toArray();
        double mean = 0;
        for (int j = 0; j < cols; j++) mean += h[j * cols + j];
        mean /= cols;
        double[] hp = new double[cols * cols];
        double[][] w = new double[rows][cols];
        for (int a = 0; a < cols; a++) {
            for (int b = 0; b < cols; b++) hp[a * cols + b] = h[perm[a] * cols + perm[b]];
            hp[a * cols + a] += dampening * mean;
            for (int r = 0; r < rows; r++) w[r][a] = dead[perm[a]] ? 0 : w0[r * cols + perm[a]];
        }
        double[] hinv = Cholesky.inverse(hp, cols);

        float[] importance = new float[cols];
        for (int p = 0; p < cols; p++) importance[p] = dead[perm[p]] ? 0f : (float) h0[perm[p] * cols + perm[p]];
        ColumnQuantizer.Session<C> session = quantizer.begin(new ColumnQuantizer.Context(rows, cols, perm, importance));
        int group = quantizer.groupSize() == -1 ? cols : quantizer.groupSize();
        float[] qp = new float[rows * cols];
        float[] col = new float[rows], q = new float[rows];
        for (int j = 0; j < cols; j++) {
            if (j % group == 0) {
                int count = Math.min(group, cols - j);
                float[] cur = new float[count * rows];
                for (int c = 0; c < count; c++) for (int r = 0; r < rows; r++) cur[c * rows + r] = (float) w[r][j + c];
                session.fitGroup(j / group, 0, rows, FloatMatrix.of(cur, count, rows));
            }
            for (int r = 0; r < rows; r++) col[r] = (float) w[r][j];
            session.quantize(j, 0, rows, col, 0, q, 0);
            double d = hinv[j * cols + j];
            for (int r = 0; r < rows; r++) {
                qp[r * cols + j] = q[r];
                double e = (w[r][j] - q[r]) / d;
                for (int k = j + 1; k < cols; k++) w[r][k] -= e * hinv[j * cols + k];
            }
            for (int a = j + 1; a < cols; a++) {
                double f = hinv[a * cols + j] / d;
                for (int b = j + 1; b < cols; b++) hinv[a * cols + b] -= f * hinv[j * cols + b];
            }
        }
        float[] out = new float[rows * cols];
        for (int p = 0; p < cols; p++) for (int r = 0; r < rows; r++) out[r * cols + perm[p]] = qp[r * cols + p];
        return out;
    }
}
