package io.quantmesh.core.quantized;

import io.quantmesh.core.codec.BitPacker;
import io.quantmesh.core.tensor.Tensor;
import java.util.LinkedHashMap;

/**
 * PCDVQ: W is stored rotated, {@code W' = T_o·W·T_iᵀ} ({@link HadamardRotation}), and W' in VPTQ's
 * channel-independent layout of k-vectors (k consecutive rows of one column, the last vector of a column padded
 * when k does not divide rows). Vector (t, j) at stream position {@code t·cols + j} has the code
 * {@code direction << magnitudeBits | magnitude} and decodes to {@code (scale · magnitudes[m]) · directions[d][i]}
 * in float32; stored column j is rotated column {@code perm[j]}. Then {@code W = T_oᵀ·W'·T_i}.
 *
 * @param directions fp16 bits [2^directionBits, k]
 * @param magnitudes fp16 bits [2^magnitudeBits] (before the layer scale)
 * @param scale      the layer scale (float32; the encoder's RMS of W')
 * @param codes      T·cols codes of directionBits + magnitudeBits bits
 * @param signsOut   1-bit stream of rows signs of D_o: bit 1 means −1
 * @param signsIn    1-bit stream of cols signs of D_i
 * @param perm       stored column → rotated column, or null
 * @param seedOut    the seed signsOut were drawn from ({@link HadamardRotation#negativeSigns}), or null if unknown
 * @param seedIn     likewise for signsIn
 */
public record PolarTensor(int rows, int cols, int vectorSize, int directionBits, int magnitudeBits, short[] directions,
        short[] magnitudes, float scale, PackedIndices codes, PackedIndices signsOut, PackedIndices signsIn, int[] perm,
        Long seedOut, Long seedIn) implements QuantizedTensor {
    public static final int MAX_VECTOR_SIZE = 16;
    public static final int MAX_MAGNITUDE_BITS = 8;

    public PolarTensor {
        if (vectorSize < 1 || vectorSize > MAX_VECTOR_SIZE) {
            throw new IllegalArgumentException("vector size must be 1.." + MAX_VECTOR_SIZE + ", got " + vectorSize);
        }
        if (directionBits < 1 || magnitudeBits < 0 || magnitudeBits > MAX_MAGNITUDE_BITS
                || directionBits + magnitudeBits > BitPacker.MAX_WIDTH) {
            throw new IllegalArgumentException("direction bits " + directionBits + " + magnitude bits " + magnitudeBits
                    + " must be ≥ 1 and ≤ " + BitPacker.MAX_WIDTH + " (magnitude bits ≤ " + MAX_MAGNITUDE_BITS + ")");
        }
        if (rows < 1 || cols < 1) throw new IllegalArgumentException("empty shape " + rows + "x" + cols);
        if (directions.length != (long) vectorSize << directionBits) {
            throw new IllegalArgumentException("directions: need 2^" + directionBits + " x " + vectorSize + " values, got "
                    + directions.length);
        }
        if (magnitudes.length != 1 << magnitudeBits) {
            throw new IllegalArgumentException("magnitudes: need 2^" + magnitudeBits + " values, got " + magnitudes.length);
        }
        Fp16.checkFinite(directions, "directions");
        Fp16.checkFinite(magnitudes, "magnitudes");
        if (!Float.isFinite(scale)) throw new IllegalArgumentException("scale " + scale + " is not finite");
        long vectors = (long) VectorTensor.vectors(rows, vectorSize) * cols;
        if (codes.width() != directionBits + magnitudeBits || codes.count() != vectors) {
            throw new IllegalArgumentException("codes: need " + vectors + " of " + (directionBits + magnitudeBits)
                    + " bits, got " + codes.count() + " of " + codes.width());
        }
        checkSigns("hadamard_signs_out", signsOut, rows, seedOut);
        checkSigns("hadamard_signs_in", signsIn, cols, seedIn);
        ColumnOrder.of(cols, perm, "perm");
    }

    private static void checkSigns(String what, PackedIndices signs, int n, Long seed) {
        if (signs.width() != 1 || signs.count() != n) {
            throw new IllegalArgumentException(what + ": need " + n + " one-bit signs, got " + signs.count() + " of "
                    + signs.width() + " bits");
        }
        if (seed != null && !signs.equals(packSigns(HadamardRotation.negativeSigns(n, seed)))) {
            throw new IllegalArgumentException(what + " are not the signs of seed " + seed);
        }
    }

    /** Packs a sign diagonal: bit i is 1 where D_ii = −1. */
    public static PackedIndices packSigns(boolean[] negative) {
        int[] bits = new int[negative.length];
        for (int i = 0; i < bits.length; i++) bits[i] = negative[i] ? 1 : 0;
        return PackedIndices.pack(bits, 1);
    }

    static boolean[] unpackSigns(PackedIndices signs) {
        int[] bits = signs.unpack();
        boolean[] negative = new boolean[bits.length];
        for (int i = 0; i < bits.length; i++) negative[i] = bits[i] == 1;
        return negative;
    }

    /** W' as stored (rotated, columns in rotated order), before the inverse rotation. */
    public float[] dequantizeRotated() {
        int k = vectorSize, per = VectorTensor.vectors(rows, k), mask = (1 << magnitudeBits) - 1;
        int[] order = ColumnOrder.of(cols, perm, "perm");
        int[] c = codes.unpack();
        float[] dirs = Fp16.values(directions), mags = Fp16.values(magnitudes);
        float[] w = new float[rows * cols];
        for (int t = 0; t < per; t++) {
            int r0 = t * k, n = Math.min(k, rows - r0);
            for (int j = 0; j < cols; j++) {
                int code = c[t * cols + j], base = (code >>> magnitudeBits) * k, col = order[j];
                float m = scale * mags[code & mask];
                for (int i = 0; i < n; i++) w[(r0 + i) * cols + col] = m * dirs[base + i];
            }
        }
        return w;
    }

    @Override
    public float[] dequantize() {
        return HadamardRotation.unrotate(dequantizeRotated(), rows, cols, unpackSigns(signsOut), unpackSigns(signsIn));
    }

    @Override
    public LinkedHashMap<String, Tensor> toTensors(String prefix) {
        LayerTensors.Builder b = new LayerTensors.Builder(prefix)
                .put("qweight", LayerTensors.packed(codes))
                .put("directions", LayerTensors.f16(directions, 1L << directionBits, vectorSize))
                .put("magnitudes", LayerTensors.f16(magnitudes, magnitudes.length))
                .put("scale", LayerTensors.f32(new float[] {scale}, 1))
                .put("hadamard_signs_out", LayerTensors.packed(signsOut))
                .put("hadamard_signs_in", LayerTensors.packed(signsIn));
        if (perm != null) b.put("perm", LayerTensors.i32(perm, cols));
        return b.build();
    }

    @Override
    public LayerConfig layerConfig() {
        return LayerConfig.create(Representation.POLAR.configName(), rows, cols)
                .with("vector_size", vectorSize).with("direction_bits", directionBits)
                .with("magnitude_bits", magnitudeBits)
                .with("hadamard_block_out", HadamardRotation.blockSize(rows))
                .with("hadamard_block_in", HadamardRotation.blockSize(cols))
                .withNullable("hadamard_seed_out", seedOut).withNullable("hadamard_seed_in", seedIn)
                .with("act_order", perm != null);
    }

    @Override
    public long indexBits() {
        return codes.bits();
    }

    static PolarTensor read(LayerTensors t, LayerConfig c) {
        int rows = c.rows(), cols = c.cols();
        int k = c.integer("vector_size", 1, MAX_VECTOR_SIZE);
        int a = c.integer("direction_bits", 1, BitPacker.MAX_WIDTH);
        int b = c.integer("magnitude_bits", 0, MAX_MAGNITUDE_BITS);
        if (a + b > BitPacker.MAX_WIDTH) throw c.error("direction_bits + magnitude_bits = " + (a + b) + " exceeds " + BitPacker.MAX_WIDTH);
        // One block convention exists (format version 1); the keys state it so a reader can refuse another.
        if (c.integer("hadamard_block_out", 1, rows) != HadamardRotation.blockSize(rows)
                || c.integer("hadamard_block_in", 1, cols) != HadamardRotation.blockSize(cols)) {
            throw c.error("Hadamard blocks must be the largest powers of two dividing the dimensions ("
                    + HadamardRotation.blockSize(rows) + ", " + HadamardRotation.blockSize(cols) + ")");
        }
        Long seedOut = c.nullableLong("hadamard_seed_out"), seedIn = c.nullableLong("hadamard_seed_in");
        boolean actOrder = c.bool("act_order");
        if (!actOrder) t.forbid("perm", "act_order is false");
        float[] scale = t.f32("scale", 1);
        return new PolarTensor(rows, cols, k, a, b,
                t.f16("directions", 1L << a, k),
                t.f16("magnitudes", 1L << b),
                scale[0],
                t.packed("qweight", a + b, (long) VectorTensor.vectors(rows, k) * cols),
                t.packed("hadamard_signs_out", 1, rows),
                t.packed("hadamard_signs_in", 1, cols),
                actOrder ? t.i32("perm", cols) : null, seedOut, seedIn);
    }
}
