package io.quantmesh.cli;

import io.quantmesh.core.Shared;
import io.quantmesh.core.eval.Perplexity;
import io.quantmesh.core.importer.Llama2cImporter;
import io.quantmesh.core.model.LanguageModel;
import io.quantmesh.core.model.Models;
import io.quantmesh.core.sampling.Generator;
import io.quantmesh.core.sampling.GreedySampler;
import io.quantmesh.mesh.MeshConfig;
import io.quantmesh.proto.v1.CheckpointQuantized;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The main job on the bundled real model: import stories260K from llama2.c into the HF layout, generate greedily
 * from BOS, report perplexity from both the raw and the imported checkpoint, then run the mesh end to end: the
 * one-process mesh (embedded Kafka + every stage), stories260K submitted and streamed through calibration, codebooks,
 * the planner, the quant workers and the assembler, and the quantized checkpoint's perplexity next to fp32.
 * Exits 1 if any check fails.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Import stories260K, generate from BOS, report perplexity (raw llama2.c file and HF import), "
                + "then quantize it through the one-process mesh and report the quantized perplexity.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "out/demo", description = "work directory (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--ctx", defaultValue = "256", description = "perplexity window (default: ${DEFAULT-VALUE})")
    int ctx;

    /**
     * INT4, not one of the 2-bit recipes: stories260K's layers are 64 wide, so at 2 bits/weight it loses most of its
     * quality (docs/RESULTS.md: ppl 47-63 against 5.74), and the universal PCDVQ codebook ships inside a checkpoint
     * bigger than the model's own weights. At 4 bits the mesh's output is a usable model, so its perplexity says
     * something; pcdvq-2.0 runs through the same mesh with --mesh-recipe (byte-identical to quantize, MeshEndToEndTest).
     */
    @Option(names = "--mesh-recipe", defaultValue = "gptq-int4-g128",
            description = "recipe of the mesh run (default: ${DEFAULT-VALUE})")
    String meshRecipe;

    @Override
    public Integer call() throws Exception {
        PrintStream o = System.out;
        Path stories = Shared.resolve("models/stories260K");
        Path bin = stories.resolve("stories260K.bin"), tok = stories.resolve("tok512.bin");
        Path evalFile = Shared.resolve("data/eval/tinystories-sample.txt");
        if (!Files.isRegularFile(bin)) {
            throw new java.io.FileNotFoundException(bin + " not found (set QUANTMESH_SHARED to the shared/ folder)");
        }
        boolean ok = true;

        Path hfDir = out.resolve("stories260K-hf");
        o.println("== 1. import " + bin + " -> " + hfDir);
        Llama2cImporter.importTo(bin, tok, hfDir);
        try (var ls = Files.list(hfDir)) {
            ls.sorted().forEach(p -> o.printf("   %-20s %,d bytes%n", p.getFileName(), p.toFile().length()));
        }

        o.println("== 2. greedy generation from BOS, 256 positions (imported checkpoint)");
        byte[] generated;
        try (LanguageModel m = Models.open(hfDir, null)) {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            long t0 = System.nanoTime();
            Generator.generate(m, new int[] {m.tokenizer().bosId()}, 256, new GreedySampler(),
                    (prev, t) -> buf.writeBytes(m.tokenizer().decodeBytes(prev, t)));
            generated = buf.toByteArray();
            o.println(new String(generated, StandardCharsets.UTF_8).indent(3).stripTrailing());
            o.printf("   %.1f tokens/s%n", 255 / ((System.nanoTime() - t0) / 1e9));
        }
        Path ref = stories.resolve("greedy-from-bos.txt");
        if (Files.isRegularFile(ref)) {
            boolean same = Arrays.equals(generated, Files.readAllBytes(ref));
            o.println("   matches " + ref.getFileName() + " byte for byte: " + (same ? "yes" : "NO"));
            ok &= same;
        }

        o.println("== 3. perplexity on " + evalFile.getFileName() + ", ctx " + ctx);
        String text = Perplexity.readText(evalFile);
        Perplexity.Result imported, raw;
        try (LanguageModel m = Models.open(hfDir, null)) {
            imported = Perplexity.evaluate(m, text, ctx, "imported HF dir", d -> {});
        }
        try (LanguageModel m = Models.open(bin, tok)) {
            raw = Perplexity.evaluate(m, text, ctx, "raw llama2.c file", d -> {});
        }
        o.println("   " + imported);
        o.println("   " + raw);
        boolean agree = imported.meanNll() == raw.meanNll();
        o.println("   raw and imported agree exactly: " + (agree ? "yes" : "NO"));
        ok &= agree;

        ok &= mesh(o, hfDir, text, imported);
        o.println(ok ? "demo: all checks passed" : "demo: a check FAILED");
        return ok ? 0 : 1;
    }

    /** Step 4: the one-process mesh, a job streamed through every stage, the quantized perplexity next to fp32. */
    private boolean mesh(PrintStream o, Path hfDir, String text, Perplexity.Result fp32) throws Exception {
        Path store = out.resolve("mesh-store");
        o.println("== 4. the mesh: embedded Kafka + calibration, codebook, quant planner, 2 quant workers, assembler");
        long t0 = System.nanoTime();
        try (LocalMesh mesh = LocalMesh.start(new LocalMesh.Options(store, 0, 2, -1, null),
                MeshConfig.fromEnv(System.getenv()))) {
            o.printf("   mesh up in %.1f s: kafka %s, store %s%n", (System.nanoTime() - t0) / 1e9,
                    mesh.bootstrapServers(), mesh.store().root());
            o.println("   quantmesh submit --model " + hfDir + " --recipe " + meshRecipe);
            SubmitCommand.Outcome r = SubmitCommand.run(mesh.config(),
                    new SubmitCommand.Request(hfDir, meshRecipe, 0, 0, 0, ""), indented(o), false,
                    Duration.ofMinutes(10));
            if (!(r.end() instanceof CheckpointQuantized q)) {
                o.println("   the job did not produce a checkpoint");
                return false;
            }
            Path checkpoint = mesh.store().resolve(q.getCheckpoint());
            Perplexity.Result quantized;
            try (LanguageModel m = Models.open(checkpoint, null)) {
                quantized = Perplexity.evaluate(m, text, ctx, "mesh " + meshRecipe, d -> {});
            }
            o.printf("   perplexity, ctx %d: fp32 %.4f | %s (%.3f bits/weight stored) %.4f  (x%.3f)%n", ctx,
                    fp32.ppl(), meshRecipe, q.getStoredBitsPerWeight(), quantized.ppl(), quantized.ppl() / fp32.ppl());
            boolean sane = quantized.ppl() > fp32.ppl() * 0.9 && Double.isFinite(quantized.ppl());
            if (!sane) o.println("   quantized perplexity out of range: NO");
            return sane;
        }
    }

    private static PrintStream indented(PrintStream o) {
        return new PrintStream(new java.io.OutputStream() {
            private boolean lineStart = true;

            @Override
            public void write(int b) {
                if (lineStart) o.print("   ");
                o.write(b);
                lineStart = b == '\n';
            }
        }, true, StandardCharsets.UTF_8);
    }
}
