package io.quantmesh.calibration;

import io.quantmesh.core.config.LlamaConfig;
import io.quantmesh.core.model.Models;
import io.quantmesh.core.model.llama.LinearInputListener.Site;
import io.quantmesh.core.model.llama.LlamaModel;
import io.quantmesh.core.ops.KernelPool;
import io.quantmesh.core.safetensors.SafetensorsFile;
import io.quantmesh.core.safetensors.TensorInfo;
import io.quantmesh.core.tensor.DType;
import io.quantmesh.core.tensor.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hessians of the real stories260K model (imported to a Hugging Face directory) over the real corpora. */
class HessianCollectorTest {
    static final int N = 6, L = 160; // two prefill blocks per sequence (128 + 32)
    @TempDir
    static Path dir;
    static Path model;
    static HessianJob job;
    static HessianJob.Result result;

    @BeforeAll
    static void collect() throws IOException {
        model = Stories260K.importTo(dir.resolve("stories260K"));
        job = new HessianJob(Corpora.shared(), HessianCollector.withDefaultBudget());
        result = job.run(spec(7, dir.resolve("out/h.safetensors")), Progress.NONE, Cancellation.NONE);
    }

    static HessianJob.Spec spec(long seed, Path out) {
        return new HessianJob.Spec(model, "stories260K", List.of(), N, L, seed, out);
    }

    @Test
    void everyLinearInputOfEveryLayerIsThereWithItsShapeAndNTimesLTokens() throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(result.artifact())) {
            List<String> names = f.tensors().stream().map(TensorInfo::name).toList();
            assertEquals(5 * 4 * 2, names.size());
            assertEquals(List.of(
                    "model.layers.0.self_attn.q_proj|k_proj|v_proj.hessian",
                    "model.layers.0.self_attn.q_proj|k_proj|v_proj.tokens",
                    "model.layers.0.self_attn.o_proj.hessian", "model.layers.0.self_attn.o_proj.tokens",
                    "model.layers.0.mlp.gate_proj|up_proj.hessian", "model.layers.0.mlp.gate_proj|up_proj.tokens",
                    "model.layers.0.mlp.down_proj.hessian", "model.layers.0.mlp.down_proj.tokens"),
                    names.subList(0, 8));
            for (int l = 0; l < 5; l++) {
                for (Site s : Site.values()) {
                    HessianSite site = HessianSite.of(l, s);
                    int d = s == Site.DOWN_PROJ ? 172 : 64;
                    TensorInfo h = f.info(site.hessianTensor());
                    assertEquals(DType.F64, h.dtype());
                    assertArrayEquals(new long[] {d, d}, h.shape());
                    TensorInfo n = f.info(site.tokensTensor());
                    assertEquals(DType.I64, n.dtype());
                    assertEquals((long) N * L, f.tensor(site.tokensTensor()).segment()
                            .get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 0));
                }
            }
            Map<String, String> md = f.metadata();
            assertEquals(HessianArtifact.FORMAT, md.get("format"));
            assertEquals(64, md.get("model_sha256").length(), "the model by content, never a path");
            assertEquals("llama", md.get("model_family"));
            assertEquals("austen,moby-dick,sotu", md.get("corpus"));
            assertEquals("7", md.get("seed"));
            assertEquals(Integer.toString(N), md.get("samples"));
            assertEquals(Integer.toString(L), md.get("seq_len"));
            assertEquals(Long.toString((long) N * L), md.get("tokens"));
            assertEquals(result.calibrationSha256(), md.get("calibration_sha256"));
            assertTrue(md.get("quantmesh_version").matches("\\d+\\.\\d+\\.\\d+.*"), md.get("quantmesh_version"));
        }
        assertEquals(20, result.sites().size());
        assertTrue(result.sites().stream().allMatch(s -> s.tokens() == (long) N * L));
        assertEquals(List.of("model.layers.4.mlp.gate_proj.weight", "model.layers.4.mlp.up_proj.weight"),
                result.sites().get(18).site().weights());
    }

    @Test
    void everyHessianIsSymmetricPositiveSemidefiniteWithAPositiveDiagonal() throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(result.artifact())) {
            for (HessianJob.Site s : result.sites()) {
                double[] h = doubles(f.tensor(s.site().hessianTensor()));
                int d = s.dim();
                double maxDiag = 0;
                for (int i = 0; i < d; i++) {
                    assertTrue(h[i * d + i] > 0, s.site().key() + " diagonal " + i);
                    maxDiag = Math.max(maxDiag, h[i * d + i]);
                    for (int j = 0; j < i; j++) assertEquals(h[i * d + j], h[j * d + i], s.site().key());
                }
                // PSD: H + δI has a Cholesky factor for a δ far below the scale of H
                assertTrue(cholesky(h, d, 1e-9 * maxDiag), s.site().key() + " is not positive semidefinite");
            }
        }
    }

    @Test
    void layerZeroAttentionInputEqualsANaiveSumOverAnIndependentRerun() throws IOException {
        // rebuild the same calibration set, re-run the model with a capturing listener, sum naively in double
        CalibrationSet set;
        double[] want = new double[64 * 64];
        long n = 0;
        try (LlamaModel m = (LlamaModel) Models.open(model, null)) {
            set = new CorpusSampler(Corpora.shared().load(List.of()), m.tokenizer()).sample(N, L, 7);
            assertEquals(result.calibrationSha256(), set.sha256());
            List<float[]> rows = new ArrayList<>();
            for (int[] seq : set.sequences()) {
                LlamaModel.State s = m.newState();
                s.linearInputListener((layer, site, x, k, width) -> {
                    if (layer != 0 || site != Site.ATTN_IN) return;
                    for (int t = 0; t < k; t++) {
                        float[] r = new float[width];
                        System.arraycopy(x, t * width, r, 0, width);
                        rows.add(r);
                    }
                });
                m.forwardAll(s, seq);
            }
            for (float[] x : rows) {
                for (int i = 0; i < 64; i++) for (int j = 0; j < 64; j++) want[i * 64 + j] += (double) x[i] * x[j];
            }
            n = rows.size();
        }
        assertEquals((long) N * L, n);
        for (int i = 0; i < want.length; i++) want[i] *= 2.0 / n;
        try (SafetensorsFile f = SafetensorsFile.open(result.artifact())) {
            double[] got = doubles(f.tensor(HessianSite.of(0, Site.ATTN_IN).hessianTensor()));
            assertArrayEquals(want, got, 0.0); // same products, same order: bit for bit
        }
    }

    @Test
    void sameSeedGivesAByteIdenticalArtifactAndAnotherSeedDoesNot() throws IOException {
        HessianJob.Result again = job.run(spec(7, dir.resolve("again.safetensors")), Progress.NONE, Cancellation.NONE);
        assertEquals(result.sha256(), again.sha256());
        assertArrayEquals(Files.readAllBytes(result.artifact()), Files.readAllBytes(again.artifact()));
        // the thread count does not matter either
        try (KernelPool one = new KernelPool(1)) {
            HessianJob serial = new HessianJob(Corpora.shared(), new HessianCollector(one, 1L << 30));
            assertEquals(result.sha256(),
                    serial.run(spec(7, dir.resolve("serial.safetensors")), Progress.NONE, Cancellation.NONE).sha256());
        }
        HessianJob.Result other = job.run(spec(8, dir.resolve("other.safetensors")), Progress.NONE, Cancellation.NONE);
        assertNotEquals(result.sha256(), other.sha256());
        assertEquals(HessianArtifact.sha256(result.artifact()), result.sha256());
        assertEquals(Files.size(result.artifact()), result.sizeBytes());
    }

    @Test
    void progressCountsSequencesAndCancellationStopsWithoutAnArtifact() {
        List<long[]> seen = new ArrayList<>();
        Path out = dir.resolve("cancelled.safetensors");
        assertThrows(java.util.concurrent.CancellationException.class, () -> job.run(spec(1, out),
                (done, total, tokens) -> seen.add(new long[] {done, total, tokens}), () -> {
                    if (seen.size() >= 2) throw new java.util.concurrent.CancellationException("stop");
                }));
        assertEquals(2, seen.size());
        assertArrayEquals(new long[] {1, N, L}, seen.get(0));
        assertArrayEquals(new long[] {2, N, 2L * L}, seen.get(1));
        assertFalse(Files.exists(out));
    }

    @Test
    void badRequestsFailBeforeAnyWork() throws IOException {
        Path out = dir.resolve("bad.safetensors");
        assertThrows(IllegalArgumentException.class,
                () -> job.run(new HessianJob.Spec(model, "m", List.of(), 0, L, 0, out), Progress.NONE, Cancellation.NONE));
        IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                () -> job.run(new HessianJob.Spec(model, "m", List.of(), 1, 513, 0, out), Progress.NONE,
                        Cancellation.NONE));
        assertTrue(tooLong.getMessage().contains("context of 512"), tooLong.getMessage());
        assertThrows(IllegalArgumentException.class, () -> job.run(new HessianJob.Spec(model, "m",
                List.of("wikitext2-test"), 1, L, 0, out), Progress.NONE, Cancellation.NONE));
        assertThrows(java.nio.file.NoSuchFileException.class, () -> job.run(new HessianJob.Spec(dir.resolve("none"),
                "none", List.of(), 1, L, 0, out), Progress.NONE, Cancellation.NONE));
        IllegalArgumentException file = assertThrows(IllegalArgumentException.class, () -> job.run(
                new HessianJob.Spec(model.resolve("config.json"), "config.json", List.of(), 1, L, 0, out),
                Progress.NONE, Cancellation.NONE));
        assertTrue(file.getMessage().contains("not a Hugging Face model directory"), file.getMessage());
        Files.createDirectories(dir.resolve("empty"));
        IllegalArgumentException notAModel = assertThrows(IllegalArgumentException.class, () -> job.run(
                new HessianJob.Spec(dir.resolve("empty"), "empty", List.of(), 1, L, 0, out), Progress.NONE,
                Cancellation.NONE));
        assertTrue(notAModel.getMessage().startsWith("cannot open model empty"), notAModel.getMessage());
        LlamaConfig c;
        try (var ck = io.quantmesh.core.checkpoint.HfCheckpoint.open(model)) {
            c = LlamaConfig.fromJson(ck.config());
        }
        HessianJob tiny = new HessianJob(Corpora.shared(), new HessianCollector(KernelPool.shared(), 1 << 16));
        IllegalArgumentException budget = assertThrows(IllegalArgumentException.class,
                () -> tiny.run(spec(0, out), Progress.NONE, Cancellation.NONE));
        assertTrue(budget.getMessage().contains("float64 accumulators"), budget.getMessage());
        assertEquals(5L * 8 * (3 * 64 * 64 + 172 * 172), HessianCollector.bytesNeeded(c));
        assertFalse(Files.exists(out));
    }

    static double[] doubles(Tensor t) {
        double[] out = new double[(int) t.numel()];
        java.lang.foreign.MemorySegment.copy(t.segment(), java.lang.foreign.ValueLayout.JAVA_DOUBLE_UNALIGNED
                .withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0, out, 0, out.length);
        return out;
    }

    /** Whether A + δI (symmetric) has a Cholesky factor. */
    static boolean cholesky(double[] a, int d, double delta) {
        double[] l = new double[d * d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j <= i; j++) {
                double s = a[i * d + j] + (i == j ? delta : 0);
                for (int k = 0; k < j; k++) s -= l[i * d + k] * l[j * d + k];
                if (i == j) {
                    if (s <= 0) return false;
                    l[i * d + i] = Math.sqrt(s);
                } else {
                    l[i * d + j] = s / l[j * d + j];
                }
            }
        }
        return true;
    }
}
