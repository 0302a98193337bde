package io.quantmesh.core.quantized;

/**
 * The geometry the two scalar representations share: codes row-major over (row, stored position), groups of
 * {@code groupSize} consecutive stored positions (the last one may be shorter), one parameter set per
 * (row, group) stored [rows, groups], stored position j holding original column {@code order[j]}.
 */
record ScalarGroups(int rows, int cols, int groupSize) {
    ScalarGroups {
        if (groupSize < 1 || groupSize > cols) {
            throw new IllegalArgumentException("group size " + groupSize + " must be in 1.." + cols);
        }
    }

    int groups() {
        return (cols + groupSize - 1) / groupSize;
    }

    long weights() {
        return (long) rows * cols;
    }

    long parameterSets() {
        return (long) rows * groups();
    }

    /** Decodes one code with parameter set {@code r·groups + group} of its row and group. */
    @FunctionalInterface
    interface Decoder {
        float decode(int code, int parameterSet);
    }

    float[] dequantize(int[] codes, int[] order, Decoder decoder) {
        float[] w = new float[Math.toIntExact(weights())];
        int groups = groups();
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                w[r * cols + order[j]] = decoder.decode(codes[r * cols + j], r * groups + j / groupSize);
            }
        }
        return w;
    }
}
