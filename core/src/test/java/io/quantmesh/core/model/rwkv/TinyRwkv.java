package io.quantmesh.core.model.rwkv;

import io.quantmesh.core.Shared;
import io.quantmesh.core.tokenizer.ByteTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Map;

/** The real tiny RWKV models of ../shared (loaded once per test JVM). */
final class TinyRwkv {
    static final String V5_1 = "5v1-730K", V5_2 = "5v2-730K", V7 = "7v0-834K";
    private static final Map<String, RwkvWeights> CACHE = new ConcurrentHashMap<>();

    private TinyRwkv() {}

    static Path file(String id) {
        return Shared.resolve("models/rwkv-tiny/tiny-rwkv-" + id + "-FP32.bin");
    }

    static RwkvWeights weights(String id) {
        return CACHE.computeIfAbsent(id, k -> {
            try {
                return RwkvCppImport.load(file(k));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    static RwkvModel model(String id) {
        return new RwkvModel(weights(id), ByteTokenizer.instance());
    }

    static float[] expectedLogits(String id) throws IOException {
        byte[] b = Files.readAllBytes(Shared.resolve("models/rwkv-tiny/expected-logits-" + id + ".bin"));
        float[] out = new float[b.length / 4];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    /** Logits after feeding the bytes of {@code text} one at a time from the zero state. */
    static float[] logitsAfter(RwkvModel m, String text) {
        RwkvState s = m.newState();
        float[] logits = null;
        for (int t : ByteTokenizer.instance().encode(text)) logits = m.next(s, t);
        return logits.clone();
    }

    static double maxAbsDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
        return d;
    }
}
