package io.quantmesh.cli;

import io.quantmesh.core.recipe.Recipe;

import io.quantmesh.calibration.Cancellation;
import io.quantmesh.calibration.Corpora;
import io.quantmesh.calibration.HessianCollector;
import io.quantmesh.calibration.HessianJob;
import io.quantmesh.codebook.PolarCodebook;
import io.quantmesh.codebook.PolarKey;
import io.quantmesh.codebook.WeightedKMeans;
import io.quantmesh.core.codec.KMeansCodec;
import io.quantmesh.core.codec.PolarCodec;
import io.quantmesh.core.parallel.Parallel;
import io.quantmesh.core.quantized.QuantizationSummary;
import io.quantmesh.core.quantized.QuantizedCheckpointReader;
import io.quantmesh.quant.CheckpointQuantizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;

/** The quant-svc pipeline from the command line: Hessians (given or collected), a named recipe, a quantized checkpoint. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"Quantize every decoder linear of an HF checkpoint with a named recipe (GPTQ loop + quantizer)",
                "and write a quantmesh quantized checkpoint (docs/FORMAT.md). Embeddings and lm_head stay dense.",
                "Progress (per-layer proxy loss) on stderr; bits/weight and sha256 of the files on stdout."})
final class QuantizeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "source Hugging Face directory")
    Path model;

    @Option(names = "--recipe", required = true, paramLabel = "NAME", description = "one of: rtn-int4-g128, afpq-fp4-g128, "
            + "gptq-int4-g128, gptq-int3-g128, gptq-int2-g128, pcdvq-2.0, pcdvq-2.25")
    String recipe;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory (published atomically)")
    Path out;

    @Option(names = "--hessians", paramLabel = "FILE", description = "quantmesh.hessians.v1 artifact (quantmesh "
            + "calibrate); without it, Hessians are collected first from --calib-samples sequences")
    Path hessians;

    @Option(names = "--calib-samples", paramLabel = "N", defaultValue = "128",
            description = "calibration sequences when collecting Hessians (default: ${DEFAULT-VALUE})")
    int calibSamples;

    @Option(names = "--calib-seq-len", paramLabel = "L",
            description = "tokens per calibration sequence (default: min(2048, context / 2))")
    Integer calibSeqLen;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "calibration sampling seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--keep-dense", paramLabel = "REGEX", description = "weight names (e.g. 'model\\.layers\\.0\\..*') "
            + "to leave dense, on top of embeddings / norms / lm_head")
    Pattern keepDense;

    @Option(names = "--threads", defaultValue = "0", description = "0 = all cores (output is identical for any count)")
    int threads;

    @Option(names = "--force", description = "replace an existing output directory")
    boolean force;

    @Override
    public Integer call() throws Exception {
        Recipe r = Recipe.named(recipe);
        Path h = hessians != null ? hessians : collect(model, calibSamples, calibSeqLen, seed, out.resolveSibling(
                out.getFileName() + ".hessians.safetensors"), System.err);
        CheckpointQuantizer.Report report = run(model, h, out, new CheckpointQuantizer.Options(r, keepDense, force,
                threads), System.err);
        print(report, System.out);
        return 0;
    }

    /**
     * Collects Hessians with calibration-svc's job (default corpora; seqLen null = the default, 256 tokens for
     * stories260K). The artifact records the model by content, so it equals the mesh's for the same settings.
     */
    static Path collect(Path model, int samples, Integer seqLen, long seed, Path file, PrintStream err) throws IOException {
        HessianJob job = new HessianJob(Corpora.shared(), HessianCollector.withDefaultBudget());
        HessianJob.Result res = job.run(new HessianJob.Spec(model, model.toString(), List.of(), samples, seqLen, seed, file),
                (done, total, tokens) -> {
                    err.printf("\rcalibration sequence %d/%d", done, total);
                    if (done == total) err.println();
                }, Cancellation.NONE);
        err.printf("hessians: %s (sha256 %s)%n", res.artifact(), res.sha256());
        return res.artifact();
    }

    static CheckpointQuantizer.Report run(Path model, Path hessians, Path out, CheckpointQuantizer.Options o,
            PrintStream err) throws IOException {
        if (o.codebooks() == null) o = o.withCodebooks(QuantizeCommand::universalCodebook);
        if (o.fitter() == null) o = o.withFitter(QuantizeCommand::weightedKMeans);
        return CheckpointQuantizer.quantize(model, hessians, out, o, (done, total, l) -> {
            int width = 30, filled = done * width / total;
            err.printf("[%s%s] %3d/%d %-40s %4dx%-4d g%-3d proxy %.4e %6.1f ms%n", "#".repeat(filled),
                    ".".repeat(width - filled), done, total, l.module(), l.rows(), l.cols(), l.groupSize(),
                    l.proxyLoss(), l.nanos() / 1e6);
        });
    }

    private static final Map<String, PolarCodec> CODEBOOKS = new ConcurrentHashMap<>();

    /** codebook-svc's universal polar codebook of that id (built once per process; deterministic from the id). */
    static PolarCodec universalCodebook(String id) {
        return CODEBOOKS.computeIfAbsent(id, k -> PolarCodebook.build(PolarKey.parse(k), Parallel.common(),
                io.quantmesh.codebook.Cancellation.NONE).codec());
    }

    /**
     * codebook-svc's weighted k-means as VPTQ's per-layer fitter: seeded k-means++, at most 100 Lloyd iterations
     * (DESIGN §3), stopping early below 1e-4 relative improvement; thread-count independent.
     */
    static KMeansCodec weightedKMeans(float[] vectors, float[] weights, int count, int k, int clusters, long seed) {
        return new KMeansCodec(k, WeightedKMeans.fit(vectors, weights, count,
                new WeightedKMeans.Spec(k, clusters, seed, 100, 1e-4), Parallel.common(),
                io.quantmesh.codebook.Cancellation.NONE).centroids());
    }

    static QuantizationSummary summary(Path dir) throws IOException {
        try (QuantizedCheckpointReader r = QuantizedCheckpointReader.open(dir)) {
            return r.summary();
        }
    }

    static void print(CheckpointQuantizer.Report report, PrintStream out) throws IOException {
        QuantizationSummary s = summary(report.out());
        out.printf("%s: %d linears, %,d weights -> %s in %.2f s, summed proxy loss %.6g%n", report.recipe().name(),
                report.layers().size(), s.parameters(), report.out(), report.nanos() / 1e9, report.proxyLoss());
        // "all stored bytes" as the files hold them (a shared codebook once), the same column as docs/RESULTS.md
        out.printf("bits/weight of the quantized linears: %.4f indices only, %.4f all stored bytes "
                        + "(%.4f counting shared codebooks in every layer)%n",
                s.indexBitsPerWeight(), s.fileBitsPerWeight(), s.storedBitsPerWeight());
        for (var e : report.sha256().entrySet()) {
            out.printf("sha256 %s  %s (%,d bytes)%n", e.getValue(), e.getKey(), Files.size(report.out().resolve(e.getKey())));
        }
    }
}
