package io.quantmesh.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantmesh.codebook.Cancellation;
import io.quantmesh.codebook.PolarCodebook;
import io.quantmesh.codebook.PolarKey;
import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.codec.PolarCodec;
import io.quantmesh.core.codec.ScalarCodec;
import io.quantmesh.core.parallel.Parallel;
import io.quantmesh.core.quantized.QuantizedCheckpointReader;
import io.quantmesh.core.quantized.QuantizedCheckpointWriter;
import io.quantmesh.core.quantized.QuantizedTensor;
import io.quantmesh.core.quantized.RoundToNearest;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Round-to-nearest quantization of a checkpoint's linears into the quantized format (docs/FORMAT.md): a baseline. */
@Command(name = "quantize-rtn", mixinStandardHelpOptions = true,
        description = {"Round-to-nearest quantization (no calibration, no GPTQ) of every linear of an HF checkpoint,",
                "written as a quantmesh quantized checkpoint that ppl / generate / logits / inspect load."})
final class QuantizeRtnCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "source Hugging Face directory")
    Path model;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory (published atomically)")
    Path out;

    @Option(names = "--codec", defaultValue = "INT4", description = "INT2..INT8, FP4, FP3, NF4, NF3, or a universal polar "
            + "codebook id such as polar-k8-a14-b2-s0-v1 (PCDVQ without the GPTQ loop) (default: ${DEFAULT-VALUE})")
    String codec;

    @Option(names = "--group-size", defaultValue = "128", description = "scalar codecs: inputs per group (default: ${DEFAULT-VALUE})")
    int groupSize;

    @Option(names = "--include", paramLabel = "REGEX", description = "weights to quantize (default: Llama-family "
            + "projections and Mixtral experts: " + "model.layers.N.*(_proj|.w1|.w2|.w3).weight)")
    String include;

    @Option(names = "--seed", defaultValue = "0", description = "polar: seed of the per-layer Hadamard sign seeds (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--shard-mb", defaultValue = "4096", description = "shard size in MiB (default: ${DEFAULT-VALUE})")
    long shardMb;

    @Option(names = "--force", description = "replace an existing output directory")
    boolean force;

    @Override
    public Integer call() throws Exception {
        long t0 = System.nanoTime();
        Pattern pattern = include != null ? Pattern.compile(include) : RoundToNearest.DECODER_LINEARS;
        ObjectNode producer = JsonNodeFactory.instance.objectNode().put("codec", codec);
        Map<String, QuantizedTensor> layers;
        try (HfCheckpoint ck = HfCheckpoint.open(model)) {
            if (codec.startsWith("polar-")) {
                PolarKey key = PolarKey.parse(codec);
                PolarCodec pc = PolarCodebook.build(key, Parallel.common(), Cancellation.NONE).codec();
                long[] seeds = new SplittableRandom(seed).longs(2L * ck.tensorNames().size()).toArray();
                layers = RoundToNearest.linears(ck, pattern,
                        (w, rows, cols, i) -> RoundToNearest.polar(w, rows, cols, pc, seeds[2 * i], seeds[2 * i + 1]));
            } else {
                producer.put("group_size", groupSize);
                layers = RoundToNearest.linears(ck, pattern, ScalarCodec.named(codec), groupSize);
            }
        }
        QuantizedCheckpointWriter.Options o = QuantizedCheckpointWriter.Options.of("rtn").withSeed(seed)
                .withProducer(producer).withMaxShardBytes(shardMb << 20).withReplaceExisting(force);
        QuantizedCheckpointWriter.Written w = QuantizedCheckpointWriter.write(model, layers, out, o);
        System.out.printf("quantized %d linears of %s with %s -> %s (%s, %,d tensor bytes) in %.1f s%n", layers.size(),
                model, codec, out, String.join(", ", w.files()), w.tensorBytes(), (System.nanoTime() - t0) / 1e9);
        try (QuantizedCheckpointReader r = QuantizedCheckpointReader.open(out)) {
            r.summary().print(System.out, false);
        }
        return 0;
    }
}
