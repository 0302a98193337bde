package io.quantmesh.cli;

import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.quantized.QuantizedCheckpointReader;
import io.quantmesh.core.safetensors.SafetensorsFile;
import io.quantmesh.core.safetensors.TensorInfo;
import io.quantmesh.core.tensor.DType;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Lists a checkpoint's tensors, dtypes, shapes and parameter count (HF directory or one .safetensors file). */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Tensors, dtypes, shapes and parameter count of a checkpoint.",
                "With --routing: per-layer, per-expert routing statistics of an MoE model on a text."})
final class InspectCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "PATH", description = "HF checkpoint directory or a .safetensors file")
    Path path;

    @Option(names = "--routing", description = "Route --text or --file through the MoE model --model (or PATH) and "
            + "print tokens, share, mean gate weight and mean router probability per layer and expert, and σ.")
    boolean routing;

    @Option(names = "--model", paramLabel = "DIR", description = "with --routing: the MoE model directory")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "with --routing: tokenizer to use instead of the model's")
    Path tokenizer;

    @Option(names = "--text", description = "with --routing: the text")
    String text;

    @Option(names = "--file", paramLabel = "FILE", description = "with --routing: a UTF-8 text file")
    Path file;

    @Option(names = "--summary", description = "Only the totals, not one line per tensor.")
    boolean summary;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        if (routing) {
            RoutingReport.print(model != null ? model : path, tokenizer, text, file, out);
            return 0;
        }
        if (path == null) throw new IllegalArgumentException("PATH is required (or --routing --model DIR)");
        List<TensorInfo> tensors = new ArrayList<>();
        Map<String, String> metadata;
        boolean quantized = false;
        if (Files.isDirectory(path)) {
            try (HfCheckpoint ck = HfCheckpoint.open(path)) {
                for (String n : ck.tensorNames()) tensors.add(ck.info(n));
                metadata = ck.metadata();
                out.println("checkpoint " + path + " (" + ck.shards().size() + " shard"
                        + (ck.shards().size() == 1 ? "" : "s") + ")");
                var c = ck.config();
                if (c.has("architectures")) out.println("architectures " + c.get("architectures"));
                if (c.has("model_type")) out.println("model_type " + c.get("model_type").asText());
                quantized = QuantizedCheckpointReader.isQuantized(c);
            }
        } else {
            try (SafetensorsFile f = SafetensorsFile.open(path)) {
                tensors.addAll(f.tensors());
                metadata = f.metadata();
                out.println("file " + path);
            }
        }
        metadata.forEach((k, v) -> out.println("metadata " + k + " = " + v));
        Map<DType, long[]> byDtype = new EnumMap<>(DType.class);   // {tensors, elements, bytes}
        int nameWidth = tensors.stream().mapToInt(t -> t.name().length()).max().orElse(4);
        for (TensorInfo t : tensors) {
            long[] acc = byDtype.computeIfAbsent(t.dtype(), d -> new long[3]);
            acc[0]++;
            acc[1] += t.numel();
            acc[2] += t.byteSize();
            if (!summary) {
                out.printf("%-" + nameWidth + "s  %-4s  %-20s  %,d%n", t.name(), t.dtype(),
                        Arrays.toString(t.shape()), t.numel());
            }
        }
        long params = 0, bytes = 0;
        for (var e : byDtype.entrySet()) {
            out.printf("dtype %-4s  %,d tensors  %,d elements  %,d bytes%n", e.getKey(), e.getValue()[0],
                    e.getValue()[1], e.getValue()[2]);
            params += e.getValue()[1];
            bytes += e.getValue()[2];
        }
        out.printf("total %,d tensors  %,d parameters  %,d bytes (%.2f MiB)%n", tensors.size(), params, bytes,
                bytes / 1048576.0);
        if (quantized) {   // reads every quantized layer: the bit accounting, and a full validation
            try (QuantizedCheckpointReader r = QuantizedCheckpointReader.open(path)) {
                r.summary().print(out, !summary);
            }
        }
        return 0;
    }
}
