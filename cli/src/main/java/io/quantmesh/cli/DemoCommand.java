package io.quantmesh.cli;

import io.quantmesh.core.Shared;
import io.quantmesh.core.eval.Perplexity;
import io.quantmesh.core.importer.Llama2cImporter;
import io.quantmesh.core.model.LanguageModel;
import io.quantmesh.core.model.Models;
import io.quantmesh.core.sampling.Generator;
import io.quantmesh.core.sampling.GreedySampler;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The main job on the bundled real model: import stories260K from llama2.c into the HF layout, generate greedily
 * from BOS, and report perplexity from both the raw and the imported checkpoint. Exits 1 if any check fails.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Import stories260K, generate from BOS, report perplexity (raw llama2.c file and HF import).")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "out/demo", description = "work directory (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--ctx", defaultValue = "256", description = "perplexity window (default: ${DEFAULT-VALUE})")
    int ctx;

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
        o.println(ok ? "demo: all checks passed" : "demo: a check FAILED");
        return ok ? 0 : 1;
    }
}
