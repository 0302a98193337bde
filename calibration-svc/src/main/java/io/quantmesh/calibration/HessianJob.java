package io.quantmesh.calibration;

import io.quantmesh.core.model.LanguageModel;
import io.quantmesh.core.model.Models;

import io.quantmesh.core.store.ArtifactStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One Hessian collection from request to durable artifact, shared by the gRPC service and the CLI: check the
 * request (cheap checks before the model is opened), draw the calibration set, collect, write, hash.
 * Bad input throws {@link IllegalArgumentException}; a model directory that does not exist,
 * {@link NoSuchFileException}.
 */
public final class HessianJob {
    /** Sampler identity in the metadata: change it whenever the windows a seed gives change. */
    static final String SAMPLER = "word-start windows, splitmix64(seed, i), BOS + L-1 tokens (v1)";

    /**
     * @param model      the model directory (Hugging Face layout)
     * @param modelLabel how the metadata names the model (the request's reference, not a host path)
     * @param corpora    corpus names; empty = {@link Corpora#DEFAULT}
     * @param samples    N, or null for {@link CorpusSampler#DEFAULT_SAMPLES}
     * @param seqLen     L, or null for {@link CorpusSampler#defaultSeqLen}
     */
    public record Spec(Path model, String modelLabel, List<String> corpora, Integer samples, Integer seqLen, long seed,
                       Path output) {
        public Spec {
            corpora = List.copyOf(corpora);
        }
    }

    /** One site of the written artifact. */
    public record Site(HessianSite site, int dim, long tokens) {}

    public record Result(Path artifact, String sha256, long sizeBytes, List<Site> sites, List<String> corpora,
                         int samples, int seqLen, long seed, String calibrationSha256, long elapsedNanos) {}

    private final Corpora corpora;
    private final HessianCollector collector;

    public HessianJob(Corpora corpora, HessianCollector collector) {
        this.corpora = corpora;
        this.collector = collector;
    }

    public Result run(Spec spec, Progress progress, Cancellation cancel) throws IOException {
        long t0 = System.nanoTime();
        CorpusSampler.checkSize(spec.samples() != null ? spec.samples() : 1, spec.seqLen() != null ? spec.seqLen() : 2);
        for (String name : spec.corpora()) corpora.files(name); // unknown names fail before any work
        if (!Files.exists(spec.model())) {
            throw new NoSuchFileException(spec.modelLabel(), null, "model directory does not exist");
        }
        if (!Files.isDirectory(spec.model())) {
            throw new IllegalArgumentException("model " + spec.modelLabel() + " is not a Hugging Face model directory "
                    + "(import llama2c checkpoints with quantmesh import-llama2c)");
        }
        try (LanguageModel model = open(spec)) {
            HessianCollector.supported(model);
            int seqLen = spec.seqLen() != null ? spec.seqLen() : CorpusSampler.defaultSeqLen(model.contextLength());
            if (seqLen > model.contextLength()) {
                throw new IllegalArgumentException("seq_len " + seqLen + " exceeds the model's context of "
                        + model.contextLength() + " tokens");
            }
            int samples = spec.samples() != null ? spec.samples() : CorpusSampler.DEFAULT_SAMPLES;
            CorpusSampler.checkSize(samples, seqLen);
            cancel.check();
            Corpus corpus = corpora.load(spec.corpora());
            CalibrationSet set = new CorpusSampler(corpus, model.tokenizer()).sample(samples, seqLen, spec.seed(),
                    cancel);
            List<CollectedHessian> hessians = collector.collect(model, set, progress, cancel);
            cancel.check();
            HessianArtifact.write(spec.output(), hessians, metadata(spec, model, set, hessians.size()));
            List<Site> sites = hessians.stream().map(h -> new Site(h.site(), h.dim(), h.tokens())).toList();
            return new Result(spec.output(), HessianArtifact.sha256(spec.output()), Files.size(spec.output()), sites,
                    corpus.names(), samples, seqLen, spec.seed(), set.sha256(), System.nanoTime() - t0);
        }
    }

    private static LanguageModel open(Spec spec) {
        try {
            return Models.open(spec.model(), null);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("cannot open model " + spec.modelLabel() + ": " + e.getMessage(), e);
        }
    }

    /**
     * No clock, path or thread count goes in: the same model (by content, {@link ArtifactStore#contentDigest}),
     * corpora and settings write the same bytes, whether the model was given as a host path or a store URI.
     */
    private static Map<String, String> metadata(Spec spec, LanguageModel model, CalibrationSet set, int sites)
            throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", HessianArtifact.FORMAT);
        m.put("quantmesh_version", Version.get());
        m.put("model_sha256", ArtifactStore.contentDigest(spec.model()));
        m.put("model_family", model.family());
        m.put("corpus", String.join(",", set.corpora()));
        m.put("sampler", SAMPLER);
        m.put("seed", Long.toString(set.seed()));
        m.put("samples", Integer.toString(set.size()));
        m.put("seq_len", Integer.toString(set.seqLen()));
        m.put("tokens", Long.toString(set.tokens()));
        m.put("calibration_sha256", set.sha256());
        m.put("sites", Integer.toString(sites));
        m.put("hessian", "H = (2/n) sum x x^T of the linear input x, float64 [in, in]; n in <key>.tokens");
        return m;
    }
}
