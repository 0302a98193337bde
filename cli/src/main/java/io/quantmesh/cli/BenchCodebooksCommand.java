package io.quantmesh.cli;

import io.quantmesh.codebook.CodebookBenchmark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code quantmesh bench-codebooks}: the codebook quality protocol (DESIGN.md §5) and the polar encoder figures:
 * MSE per dimension of scalar Lloyd-Max, polar a=14/a=16 and k-means 2^16 against 2^-2R, PCDVQ's assignment
 * ablation, encoder throughput (naive / Vector API / pruned, one thread / all cores) and build times.
 */
@Command(name = "bench-codebooks", mixinStandardHelpOptions = true,
        description = "Codebook MSE on i.i.d. N(0,1) 8-vectors, PCDVQ ablation, polar encoder throughput and build times.")
public final class BenchCodebooksCommand implements Callable<Integer> {
    @Option(names = "--vectors", defaultValue = "1000000", description = "test vectors (default ${DEFAULT-VALUE})")
    int vectors;

    @Option(names = "--seed", defaultValue = "1", description = "seed of the test vectors; training uses seed+1 (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--kmeans-train", defaultValue = "1048576", description = "separate k-means training vectors, 0 to skip k-means (default ${DEFAULT-VALUE})")
    int kmeansTrain;

    @Option(names = "--kmeans-clusters", defaultValue = "65536", description = "k-means centroids (default ${DEFAULT-VALUE})")
    int kmeansClusters;

    @Option(names = "--kmeans-iterations", defaultValue = "10", description = "Lloyd iterations after k-means++ (default ${DEFAULT-VALUE})")
    int kmeansIterations;

    @Option(names = "--throughput-seconds", defaultValue = "3", description = "time per throughput cell, split into 3 interleaved rounds (default ${DEFAULT-VALUE})")
    double throughputSeconds;

    @Option(names = "--sweep", description = "instead: the recipe sweep (candidate sets, refinement) for polar a=N, on --vectors")
    Integer sweep;

    @Option(names = "--cache-dir", description = "where the cold builds write their codebooks (default: a temporary directory)")
    Path cacheDir;

    @Override
    public Integer call() throws Exception {
        if (vectors < 1000 || vectors > 50_000_000) throw new IllegalArgumentException("--vectors must be in [1000, 5e7]");
        if (kmeansTrain < 0 || kmeansTrain > 20_000_000) throw new IllegalArgumentException("--kmeans-train must be in [0, 2e7]");
        if (kmeansTrain > 0 && (kmeansClusters < 1 || kmeansClusters > kmeansTrain)) {
            throw new IllegalArgumentException("--kmeans-clusters must be in [1, --kmeans-train]");
        }
        if (kmeansIterations < 0 || kmeansIterations > 1000) throw new IllegalArgumentException("--kmeans-iterations must be in [0, 1000]");
        if (!(throughputSeconds > 0 && throughputSeconds <= 60)) throw new IllegalArgumentException("--throughput-seconds must be in (0, 60]");
        if (sweep != null) {
            if (sweep < 4 || sweep > 16) throw new IllegalArgumentException("--sweep takes a = 4..16");
            CodebookBenchmark.sweep(sweep, vectors, seed, System.out);
            return 0;
        }
        Path dir = cacheDir != null ? cacheDir : Files.createTempDirectory("quantmesh-bench-codebooks");
        CodebookBenchmark.run(new CodebookBenchmark.Config(vectors, seed, kmeansTrain, kmeansClusters, kmeansIterations,
                throughputSeconds, dir), System.out);
        return 0;
    }
}
