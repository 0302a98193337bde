package io.quantmesh.cli;

import io.quantmesh.core.model.moe.MoeConfig;
import io.quantmesh.core.model.moe.MoeStyle;
import io.quantmesh.core.model.moe.Upcycler;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Dense Llama directory → MoE directory of a style whose logits equal the dense model's (the constructed test bed). */
@Command(name = "upcycle", mixinStandardHelpOptions = true,
        description = "Write a Mixtral / Qwen2-MoE / DeepSeekMoE checkpoint whose experts are copies of a dense "
                + "Llama model's MLP, so it gives the dense logits (docs/MOE.md).")
final class UpcycleCommand implements Callable<Integer> {
    @Option(names = "--dense", required = true, paramLabel = "DIR", description = "Hugging Face Llama directory")
    Path dense;

    @Option(names = "--style", required = true, description = "mixtral, qwen2_moe or deepseek_moe")
    String style;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory")
    Path out;

    @Option(names = "--experts", description = "routed experts per sparse layer (default: mixtral 8, qwen2_moe 8, deepseek_moe 16)")
    Integer experts;

    @Option(names = "--top-k", description = "experts per token (default: mixtral 2, qwen2_moe 2, deepseek_moe 4)")
    Integer topK;

    @Option(names = "--norm-topk-prob", description = "renormalise the top-k weights (Qwen2-MoE / DeepSeekMoE; default: off, as those models ship)")
    boolean normTopKProb;

    @Option(names = "--router", description = "random or grouped (default: random when weights are renormalised, else grouped)")
    String router;

    @Option(names = "--seed", defaultValue = "7", description = "router seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Override
    public Integer call() throws Exception {
        MoeStyle st = MoeStyle.parse(style);
        Upcycler.Options d = Upcycler.Options.defaults(st, seed);
        boolean norm = st == MoeStyle.MIXTRAL || normTopKProb;
        Upcycler.RouterInit init = router != null ? parseRouter(router)
                : norm ? Upcycler.RouterInit.RANDOM : Upcycler.RouterInit.GROUPED;
        Upcycler.Options o = new Upcycler.Options(st, experts != null ? experts : d.experts(),
                topK != null ? topK : d.topK(), norm, init, seed);
        MoeConfig c = Upcycler.upcycle(dense, out, o);
        System.out.printf("upcycled %s -> %s: %s, %d experts, top-%d, %s, %s router, seed %d%n", dense, out,
                st.family(), o.experts(), o.topK(), c.renormalises() ? "renormalised" : "raw top-k weights",
                init.name().toLowerCase(), seed);
        System.out.printf("  %d of %d layers sparse; expert width %d; shared expert width %d%n", c.numMoeLayers(),
                c.base().numHiddenLayers(), c.expertIntermediateSize(), c.sharedIntermediateSize());
        return 0;
    }

    private static Upcycler.RouterInit parseRouter(String s) {
        return switch (s.toLowerCase()) {
            case "random" -> Upcycler.RouterInit.RANDOM;
            case "grouped" -> Upcycler.RouterInit.GROUPED;
            default -> throw new IllegalArgumentException("--router must be random or grouped, got '" + s + "'");
        };
    }
}
