package io.quantmesh.quant;

import io.quantmesh.core.linalg.FloatMatrix;

/**
 * Asymmetric INT-b with min/max range per (row, group of g input columns), exactly GPTQ's reference quantizer:
 * the range is widened to include 0, {@code scale = (max - min) / (2^b - 1)}, integer zero point
 * {@code z = rint(-min / scale)}, code {@code clamp(rint(x / scale) + z, 0, 2^b - 1)}, value
 * {@code scale·(code - z)}. An all-zero group gets the range [-1, 1]. Rounding is half-to-even (as torch.round).
 *
 * <p>Used for round-to-nearest ({@link GptqLoop#roundToNearest}) and inside GPTQ ({@link GptqLoop#quantize}).
 */
public final class MinMaxIntQuantizer implements ColumnQuantizer<IntCodes> {
    private final int bits;
    private final int groupSize;

    /**
     * @param bits 2..8
     * @param groupSize inputs per group (≥ 1), or -1 for one range per output channel
     */
    public MinMaxIntQuantizer(int bits, int groupSize) {
        if (bits < 2 || bits > 8) throw new IllegalArgumentException("INT bits must be 2..8, got " + bits);
        if (groupSize == 0 || groupSize < -1) {
            throw new IllegalArgumentException("group size must be >= 1 or -1 (per channel), got " + groupSize);
        }
        this.bits = bits;
        this.groupSize = groupSize;
    }

    public int bits() {
        return bits;
    }

    @Override
    public int rowAlignment() {
        return 1;
    }

    @Override
    public int groupSize() {
        return groupSize;
    }

    @Override
    public Session<IntCodes> begin(int rows, int columns, float[] importance) {
        int groups = groupSize == -1 ? 1 : (columns + groupSize - 1) / groupSize;
        IntCodes codes = new IntCodes(bits, groupSize == -1 ? columns : groupSize, rows, columns,
                new byte[Math.multiplyExact(rows, columns)], new float[groups * rows], new byte[groups * rows]);
        return new IntSession(codes);
    }

    private record IntSession(IntCodes codes) implements Session<IntCodes> {
        @Override
        public void fitGroup(int group, int r0, int r1, FloatMatrix columns) {
            int maxq = codes.maxCode(), rows = codes.rows();
            float[] lo = new float[r1 - r0], hi = new float[r1 - r0];
            for (int c = 0; c < columns.rows(); c++) {
                for (int r = 0; r < r1 - r0; r++) {
                    float x = columns.get(c, r);
                    lo[r] = Math.min(lo[r], x);   // starts at 0: the range always includes 0
                    hi[r] = Math.max(hi[r], x);
                }
            }
            for (int r = 0; r < r1 - r0; r++) {
                float min = lo[r], max = hi[r];
                if (min == 0 && max == 0) {
                    min = -1;
                    max = 1;
                }
                float scale = (max - min) / maxq;
                codes.scales()[group * rows + r0 + r] = scale;
                codes.zeros()[group * rows + r0 + r] = (byte) Math.rint(-min / scale);
            }
        }

        @Override
        public void quantize(int position, int r0, int r1, float[] w, int wOff, float[] q, int qOff) {
            int rows = codes.rows(), maxq = codes.maxCode(), g = codes.group(position) * rows;
            float[] scales = codes.scales();
            byte[] zeros = codes.zeros(), out = codes.codes();
            for (int r = r0; r < r1; r++) {
                float scale = scales[g + r];
                int zero = zeros[g + r] & 0xff;
                int code = (int) Math.max(0, Math.min(maxq, Math.rint(w[wOff + r - r0] / scale) + zero));
                out[position * rows + r] = (byte) code;
                q[qOff + r - r0] = scale * (code - zero);
            }
        }

        @Override
        public IntCodes finish() {
            return codes;
        }
    }
}
