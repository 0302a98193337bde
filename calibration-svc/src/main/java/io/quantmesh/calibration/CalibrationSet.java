package io.quantmesh.calibration;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * N token sequences of L tokens drawn from a corpus, and how: the corpora, the seed, and the character offset each
 * window starts at (so any sequence can be traced back to its text).
 */
public record CalibrationSet(List<String> corpora, long seed, int seqLen, int[][] sequences, long[] offsets) {

    public int size() {
        return sequences.length;
    }

    public long tokens() {
        return (long) sequences.length * seqLen;
    }

    /** sha256 of the token ids as int32 little-endian, sequence after sequence (hex). */
    public String sha256() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            ByteBuffer b = ByteBuffer.allocate(4 * seqLen).order(ByteOrder.LITTLE_ENDIAN);
            for (int[] s : sequences) {
                b.clear();
                for (int t : s) b.putInt(t);
                md.update(b.array(), 0, b.position());
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
