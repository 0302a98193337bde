package io.quantmesh.core.quantized;

/**
 * Where each stored column goes. A layer stores its columns in processing order: stored column j is original
 * column {@code perm[j]} (GPTQ's act-order permutation, position → column); without a permutation, in ascending
 * order. VPTQ layers split the columns into outlier columns (kept in fp16, with their ids) and the main columns
 * the codebook covers; both lists together must hold every column exactly once.
 */
final class ColumnOrder {
    private ColumnOrder() {}

    /** The original column of each stored column: {@code perm} (checked), or the identity when null. */
    static int[] of(int cols, int[] perm, String what) {
        if (perm == null) return identity(cols);
        if (perm.length != cols) throw new IllegalArgumentException(what + " has " + perm.length + " entries, expected " + cols);
        boolean[] seen = new boolean[cols];
        mark(perm, seen, what);
        return perm;
    }

    /**
     * The original column of each stored main column when {@code outliers} are set aside: {@code perm} (which must
     * list exactly the other columns), or those columns in ascending order.
     */
    static int[] main(int cols, int[] outliers, int[] perm, String outlierWhat, String permWhat) {
        boolean[] seen = new boolean[cols];
        mark(outliers, seen, outlierWhat);
        int main = cols - outliers.length;
        if (perm != null) {
            if (perm.length != main) {
                throw new IllegalArgumentException(permWhat + " has " + perm.length + " entries, expected " + main
                        + " (the columns that are not outliers)");
            }
            mark(perm, seen, permWhat + " (or it repeats an outlier column)");
            return perm;
        }
        int[] out = new int[main];
        for (int c = 0, j = 0; c < cols; c++) if (!seen[c]) out[j++] = c;
        return out;
    }

    static int[] identity(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        return p;
    }

    private static void mark(int[] columns, boolean[] seen, String what) {
        for (int i = 0; i < columns.length; i++) {
            int c = columns[i];
            if (c < 0 || c >= seen.length) {
                throw new IllegalArgumentException(what + ": entry " + i + " is column " + c + ", outside 0.." + (seen.length - 1));
            }
            if (seen[c]) throw new IllegalArgumentException(what + ": column " + c + " appears twice");
            seen[c] = true;
        }
    }
}
