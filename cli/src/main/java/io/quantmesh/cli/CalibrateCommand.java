package io.quantmesh.cli;

import io.quantmesh.calibration.Cancellation;
import io.quantmesh.calibration.Corpora;
import io.quantmesh.calibration.HessianCollector;
import io.quantmesh.calibration.HessianJob;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Hessians of a model's linear inputs over a corpus calibration set (calibration-svc's job, in process). */
@Command(name = "calibrate", mixinStandardHelpOptions = true,
        description = "Sample N x L tokens from the calibration corpora and write H = (2/n) sum x x^T (float64) for "
                + "the input of every linear layer to a safetensors file. Progress goes to stderr.")
final class CalibrateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Hugging Face model directory")
    Path model;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "the .safetensors file to write")
    Path out;

    @Option(names = "--samples", paramLabel = "N", description = "sequences (default 128)")
    Integer samples;

    @Option(names = "--seq-len", paramLabel = "L", description = "tokens per sequence, BOS included "
            + "(default min(2048, context/2): 256 for stories260K)")
    Integer seqLen;

    @Option(names = "--seed", paramLabel = "S", description = "sampling seed (default 0)")
    long seed;

    @Option(names = "--corpus", paramLabel = "NAME", split = ",",
            description = "corpora, e.g. austen,moby-dick,sotu,brown (default austen,moby-dick,sotu)")
    List<String> corpus = List.of();

    @Option(names = "--corpora", paramLabel = "DIR", description = "corpora directory (default ../shared/data/corpora)")
    Path corporaDir;

    @Override
    public Integer call() throws Exception {
        Corpora corpora = corporaDir == null ? Corpora.shared() : new Corpora(corporaDir);
        HessianJob job = new HessianJob(corpora, HessianCollector.withDefaultBudget());
        long t0 = System.nanoTime();
        HessianJob.Result r = job.run(new HessianJob.Spec(model, model.toString(), corpus, samples,
                seqLen, seed, out), (done, total, tokens) -> {
            double s = (System.nanoTime() - t0) / 1e9;
            System.err.printf("\rsequence %d/%d, %d tokens, %.1f s, %.0f tokens/s", done, total, tokens, s,
                    tokens / s);
            if (done == total) System.err.println();
        }, Cancellation.NONE);
        System.out.printf("wrote %s (%d bytes, sha256 %s)%n", r.artifact(), r.sizeBytes(), r.sha256());
        System.out.printf("%d sites, %d x %d tokens from %s (seed %d, calibration sha256 %s) in %.2f s%n",
                r.sites().size(), r.samples(), r.seqLen(), String.join(",", r.corpora()), r.seed(),
                r.calibrationSha256(), r.elapsedNanos() / 1e9);
        return 0;
    }
}
