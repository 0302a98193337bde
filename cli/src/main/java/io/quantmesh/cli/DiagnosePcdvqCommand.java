package io.quantmesh.cli;

import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.codec.PolarCodec;
import io.quantmesh.core.linalg.Hadamard;
import io.quantmesh.core.parallel.Parallel;
import io.quantmesh.core.quantized.RoundToNearest;
import io.quantmesh.core.recipe.Recipe;
import io.quantmesh.core.safetensors.SafetensorsFile;
import io.quantmesh.core.tensor.Tensor;
import io.quantmesh.quant.CheckpointQuantizer;
import io.quantmesh.quant.GptqLoop;
import io.quantmesh.quant.PcdvqVariant;
import io.quantmesh.quant.PcdvqVariant.Options;
import io.quantmesh.quant.PcdvqVariant.RowScale;
import io.quantmesh.quant.PcdvqVariant.Rotation;
import io.quantmesh.quant.ProxyLoss;
import io.quantmesh.quant.ScalarGroupQuantizer;
import io.quantmesh.quant.SyntheticLayer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import io.quantmesh.core.Shared;
import io.quantmesh.core.eval.Perplexity;
import io.quantmesh.core.model.LanguageModel;
import io.quantmesh.core.model.Models;
import io.quantmesh.core.safetensors.SafetensorsWriter;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.StandardCopyOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * Why PCDVQ-2.0 loses to GPTQ-INT2-g128 on stories260K (docs/PCDVQ.md): on the real layers and Hessians, the proxy
 * loss of the registered recipes next to PCDVQ with one design choice changed at a time ({@link PcdvqVariant}), the
 * distribution the rotation produces against the N(0, 1) the codebook is built for, stored-bit accounting, and the
 * same two recipes on larger synthetic layers. Everything is seeded; the figures are printed as Markdown tables.
 */
@Command(name = "diagnose-pcdvq", mixinStandardHelpOptions = true,
        description = {"Measure why PCDVQ-2.0 does (not) beat GPTQ-INT2-g128 on a model: rotation Gaussianity, scale,",
                "GPTQ feedback, stored bits, and synthetic layers of other widths (docs/PCDVQ.md)."})
final class DiagnosePcdvqCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "dense Hugging Face directory")
    Path model;

    @Option(names = "--hessians", paramLabel = "FILE", description = "Hessian artifact; without it, collected into --work")
    Path hessians;

    @Option(names = "--work", defaultValue = "/tmp/quantmesh-diagnose-pcdvq", paramLabel = "DIR",
            description = "where collected Hessians go (default: ${DEFAULT-VALUE})")
    Path work;

    @Option(names = "--calib-samples", paramLabel = "N", defaultValue = "128", description = "default: ${DEFAULT-VALUE}")
    int calibSamples;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "calibration seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--synthetic-widths", split = ",", defaultValue = "64,1024", paramLabel = "N,...",
            description = "square synthetic layers to compare on (default: ${DEFAULT-VALUE}; empty: none)")
    List<Integer> widths;

    @Option(names = "--ppl", description = "also write fake-quantized copies (W replaced by the dequantized Q of the main"
            + " variants) under --work and report their perplexity (DESIGN.md §5, ctx 256)")
    boolean ppl;

    private static final double[] ALPHAS = {0.9, 1.0, 1.1, 1.25, 1.5, 1.75};
    private static final int K = 8;

    /** Σ of a figure per layer kind (q_proj, …), in first-seen order, plus the total. */
    private static final class Sums {
        final Map<String, double[]> byKind = new LinkedHashMap<>();
        final int n;

        Sums(int n) {
            this.n = n;
        }

        void add(String kind, double... v) {
            double[] s = byKind.computeIfAbsent(kind, x -> new double[n]);
            for (int i = 0; i < n; i++) s[i] += v[i];
        }

        double[] total() {
            double[] t = new double[n];
            for (double[] s : byKind.values()) for (int i = 0; i < n; i++) t[i] += s[i];
            return t;
        }
    }

    /** Moments of entries and of k-vector norms, and the nearest-codeword error, pooled over layers. */
    private static final class Shape {
        double m2, m4, entries, r, r2, vectors, codecError, rowCv, layers;

        void add(float[] w, int rows, int cols, PolarCodec codec) {
            double[] rowMs = new double[rows];
            for (int i = 0; i < w.length; i++) rowMs[i / cols] += (double) w[i] * w[i] / cols;
            double mean = 0, ms = 0;
            for (double x : rowMs) {
                mean += Math.sqrt(x) / rows;
                ms += x / rows;
            }
            rowCv += Math.sqrt(Math.max(0, ms - mean * mean)) / mean;
            layers++;
            int full = rows / K;                       // only full vectors: padding is not the source's law
            float[] v = new float[full * cols * K];
            for (int j = 0; j < cols; j++) {
                for (int t = 0; t < full; t++) {
                    for (int i = 0; i < K; i++) v[(j * full + t) * K + i] = w[(t * K + i) * cols + j];
                }
            }
            addVectors(v, full * cols, codec);
        }

        void addVectors(float[] v, int count, PolarCodec codec) {
            float[] d = codec.decode(codec.encode(v, count, PolarCodec.Search.PRUNED, Parallel.common()), count);
            for (int c = 0; c < count; c++) {
                double n2 = 0;
                for (int i = 0; i < K; i++) {
                    double x = v[c * K + i];
                    n2 += x * x;
                    m4 += x * x * x * x;
                    codecError += (x - d[c * K + i]) * (x - d[c * K + i]);
                }
                r += Math.sqrt(n2);
                r2 += n2;
                m2 += n2;
                entries += K;
                vectors++;
            }
        }

        /** std / mean of the RMS of the rows (output channels), averaged over layers. */
        double rowSpread() {
            return rowCv / layers;
        }

        double kurtosis() {
            double a = m2 / entries;
            return m4 / entries / (a * a) - 3;
        }

        /** std of ‖v‖ relative to the RMS-matched χ_k: the vectors are normalised by their own mean square. */
        double normStd() {
            double mean = r / vectors, ms = r2 / vectors;
            return Math.sqrt(Math.max(0, ms - mean * mean)) / Math.sqrt(ms / K);
        }

        /** Nearest-codeword MSE per dimension relative to the source's mean square (N(0,1): the codec's D). */
        double codecMse() {
            return codecError / (vectors * K) / (r2 / (vectors * K));
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        PolarCodec a14 = CheckpointQuantizer.storedCodec(Recipe.named("pcdvq-2.0"), QuantizeCommand::universalCodebook);
        PolarCodec a16 = CheckpointQuantizer.storedCodec(Recipe.named("pcdvq-2.25"), QuantizeCommand::universalCodebook);
        Recipe int2 = Recipe.named("gptq-int2-g128");
        GptqLoop loop = new GptqLoop(GptqLoop.Options.defaults().withActOrder(true).withProxyLoss(false));
        Files.createDirectories(work);
        Path h = hessians != null ? hessians : QuantizeCommand.collect(model, calibSamples, seed,
                work.resolve("hessians.safetensors"), System.err);

        Shape gauss = new Shape();
        SplittableRandom rng = new SplittableRandom(1);
        float[] g = new float[(1 << 16) * K];
        for (int i = 0; i < g.length; i++) g[i] = (float) rng.nextGaussian();
        gauss.addVectors(g, 1 << 16, a14);

        Map<String, Shape[]> shapes = new LinkedHashMap<>();       // raw W, Hadamard W', dense W'
        Map<String, String> dims = new LinkedHashMap<>();
        // losses: 0 INT2 GPTQ, 1 PCDVQ-2.0, 2 dense rotation, 3 row scale after rotation, 4 row scale before,
        // 5 PCDVQ-2.25, 6 INT2 RTN, 7 PCDVQ-2.0 no feedback, 8 PCDVQ-2.0 no act-order, 9 dense + row scale before
        Sums loss = new Sums(10);
        Sums alpha = new Sums(ALPHAS.length), alphaRow = new Sums(ALPHAS.length);
        // 0 ‖W‖², 1 ‖W−Q‖² INT2 RTN, 2 ‖W−Q‖² PCDVQ no feedback, 3/4 presented mean square GPTQ / RTN (× weights),
        // 5 weights, 6 stored bits INT2 excl. perm, 7 perm bits, 8 PCDVQ k-vectors (padded), 9 PCDVQ side bits
        // (f32 scale + the two 1-bit sign streams), 10 rows
        Sums misc = new Sums(11);
        // variant → weight name → Q, for the perplexity check (fake quantization: Q stored as F32); every layer adds
        // the same variants in the same order, so the first layer fixes the table's order
        Map<String, Map<String, float[]>> fake = new LinkedHashMap<>();
        Map<String, Double> fakeLoss = new LinkedHashMap<>();
        try (HfCheckpoint ck = HfCheckpoint.open(model); SafetensorsFile hf = SafetensorsFile.open(h)) {
            Map<String, String> siteOf = CheckpointQuantizer.sites(hf);
            long layerSeed = 0;                                  // = CheckpointQuantizer's seed: checkpoint order
            for (String name : ck.tensorNames()) {
                if (!RoundToNearest.DECODER_LINEARS.matcher(name).matches()) continue;
                Tensor t = ck.tensor(name);
                if (t.rank() != 2) continue;
                int rows = Math.toIntExact(t.dim(0)), cols = Math.toIntExact(t.dim(1));
                String site = siteOf.get(name);
                if (site == null) throw new IllegalArgumentException(h + " has no Hessian for " + name);
                double[] hh = CheckpointQuantizer.hessian(hf, site, cols, name);
                float[] w = t.toFloatArray();
                long s = layerSeed++;
                String kind = name.replaceAll(".*\\.(\\w+)\\.weight", "$1");
                dims.putIfAbsent(kind, rows + "×" + cols + " | " + Hadamard.blockSize(rows) + " / " + Hadamard.blockSize(cols));
                System.err.printf("%s %dx%d%n", name, rows, cols);

                Shape[] sh = shapes.computeIfAbsent(kind, x -> new Shape[] {new Shape(), new Shape(), new Shape()});
                float[] raw = w.clone();
                double rms = Math.sqrt(sq(w) / w.length);
                for (int i = 0; i < raw.length; i++) raw[i] /= (float) rms;
                sh[0].add(raw, rows, cols, a14);
                sh[1].add(PcdvqVariant.rotate(w, rows, cols, s, Rotation.HADAMARD), rows, cols, a14);
                sh[2].add(PcdvqVariant.rotate(w, rows, cols, s, Rotation.DENSE_ORTHOGONAL), rows, cols, a14);

                ScalarGroupQuantizer sq = ScalarGroupQuantizer.forRecipe(int2, cols);
                float[] qInt = loop.quantize(w, rows, cols, hh, sq).dequantized();
                float[] qIntRtn = loop.roundToNearest(w, rows, cols, hh, sq).dequantized();
                Options spec = Options.spec();
                PcdvqVariant.Result pc = PcdvqVariant.quantize(w, rows, cols, hh, s, a14, spec);
                PcdvqVariant.Result pcRtn = PcdvqVariant.quantize(w, rows, cols, hh, s, a14, spec.withGptq(false));
                float[] qDense = PcdvqVariant.quantize(w, rows, cols, hh, s, a14, spec.with(Rotation.DENSE_ORTHOGONAL))
                        .dequantized();
                float[] qRow = PcdvqVariant.quantize(w, rows, cols, hh, s, a14, spec.with(RowScale.ROTATED)).dequantized();
                if (ppl) {
                    boolean qk = kind.equals("q_proj") || kind.equals("k_proj");
                    Map<String, float[]> qs = new LinkedHashMap<>();
                    qs.put("gptq-int2-g128", qInt);
                    qs.put("pcdvq-2.0", pc.dequantized());
                    for (int off = 1000; off <= 3000; off += 1000) {   // the seed is arbitrary: how much is luck?
                        qs.put("pcdvq-2.0, rotation seeds + " + off,
                                PcdvqVariant.quantize(w, rows, cols, hh, s + off, a14, spec).dequantized());
                    }
                    qs.put("pcdvq-2.0 on v/o/gate/up/down, INT2 on q/k", qk ? qInt : pc.dequantized());
                    qs.put("INT2 on v/o/gate/up/down, pcdvq-2.0 on q/k", qk ? pc.dequantized() : qInt);
                    qs.put("pcdvq-2.0, row scale after rotation", qRow);
                    for (int off = 1000; off <= 3000; off += 1000) {
                        qs.put("pcdvq-2.0, row scale after rotation, seeds + " + off, PcdvqVariant.quantize(w, rows, cols,
                                hh, s + off, a14, spec.with(RowScale.ROTATED)).dequantized());
                    }
                    qs.put("pcdvq-2.0, row scale after rotation on q/k only", qk ? qRow : pc.dequantized());
                    for (int off = 0; off <= 3000; off += 1000) {   // error ∝ each original row's size, as INT2's
                        qs.put("pcdvq-2.0, row scale before rotation" + (off == 0 ? "" : ", seeds + " + off),
                                PcdvqVariant.quantize(w, rows, cols, hh, s + off, a14, spec.with(RowScale.ORIGINAL))
                                        .dequantized());
                    }
                    float[] qPre = qs.get("pcdvq-2.0, row scale before rotation");
                    qs.put("pcdvq-2.0, row scale before rotation on q/k only", qk ? qPre : pc.dequantized());
                    qs.put("pcdvq-2.0, row scale before rotation except on q/k", qk ? pc.dequantized() : qPre);
                    qs.put("pcdvq-2.0, row scale after rotation, α 1.1", PcdvqVariant.quantize(w, rows, cols,
                            hh, s, a14, spec.with(RowScale.ROTATED).withAlpha(1.1)).dequantized());
                    qs.put("pcdvq-2.0, α 1.25", PcdvqVariant.quantize(w, rows, cols, hh, s, a14,
                            spec.withAlpha(1.25)).dequantized());
                    qs.put("pcdvq-2.0, dense rotation", qDense);
                    for (var e : qs.entrySet()) {
                        fake.computeIfAbsent(e.getKey(), x -> new LinkedHashMap<>()).put(name, e.getValue());
                        fakeLoss.merge(e.getKey(), lossOf(w, e.getValue(), rows, cols, hh), Double::sum);
                    }
                }
                loss.add(kind, lossOf(w, qInt, rows, cols, hh), lossOf(w, pc.dequantized(), rows, cols, hh),
                        lossOf(w, qDense, rows, cols, hh), lossOf(w, qRow, rows, cols, hh),
                        lossOf(w, PcdvqVariant.quantize(w, rows, cols, hh, s, a14, spec.with(RowScale.ORIGINAL))
                                .dequantized(), rows, cols, hh),
                        lossOf(w, PcdvqVariant.quantize(w, rows, cols, hh, s, a16, spec).dequantized(), rows, cols, hh),
                        lossOf(w, qIntRtn, rows, cols, hh), lossOf(w, pcRtn.dequantized(), rows, cols, hh),
                        lossOf(w, PcdvqVariant.quantize(w, rows, cols, hh, s, a14, spec.withActOrder(false))
                                .dequantized(), rows, cols, hh),
                        lossOf(w, PcdvqVariant.quantize(w, rows, cols, hh, s, a14,
                                spec.with(Rotation.DENSE_ORTHOGONAL).with(RowScale.ORIGINAL)).dequantized(), rows, cols, hh));
                double[] al = new double[ALPHAS.length];
                for (int i = 0; i < ALPHAS.length; i++) {
                    al[i] = ALPHAS[i] == 1.0 ? lossOf(w, pc.dequantized(), rows, cols, hh)
                            : lossOf(w, PcdvqVariant.quantize(w, rows, cols, hh, s, a14, spec.withAlpha(ALPHAS[i]))
                                    .dequantized(), rows, cols, hh);
                }
                alpha.add(kind, al);
                double[] ar = new double[ALPHAS.length];
                for (int i = 0; i < ALPHAS.length; i++) {
                    ar[i] = lossOf(w, PcdvqVariant.quantize(w, rows, cols, hh, s, a14,
                            spec.with(RowScale.ROTATED).withAlpha(ALPHAS[i])).dequantized(), rows, cols, hh);
                }
                alphaRow.add(kind, ar);
                int group = int2.groupFor(cols), groups = (cols + group - 1) / group;
                double n = (double) rows * cols, vectors = Math.ceil(rows / (double) K) * cols;
                misc.add(kind, sq(w), sqDiff(w, qIntRtn), sqDiff(w, pcRtn.dequantized()),
                        pc.presentedRms() * pc.presentedRms() * n, pcRtn.presentedRms() * pcRtn.presentedRms() * n, n,
                        2 * n + rows * groups * (16 + 2), 32.0 * cols, vectors, 32 + rows + cols, rows);
            }
        }
        print(out, gauss, shapes, dims, loss, alpha, alphaRow, misc, a14, a16);
        if (ppl) perplexities(out, fake, fakeLoss);
        for (int width : widths) synthetic(out, width, int2, loop, a14);
        return 0;
    }

    /** Each variant's Q written over a copy of the dense checkpoint (F32), then perplexity by DESIGN §5. */
    private void perplexities(PrintStream out, Map<String, Map<String, float[]>> fake, Map<String, Double> loss)
            throws IOException {
        Path evalFile = Shared.resolve("data/eval/tinystories-sample.txt");
        String text = Perplexity.readText(evalFile);
        out.println("\n## 6. Perplexity of the fake-quantized variants (Q as F32; tinystories-sample.txt, ctx 256)\n");
        out.println("| variant | Σ proxy loss | ppl |");
        out.println("|---|---:|---:|");
        out.printf("| fp32 | 0 | %.4f |%n", ppl(model, text, evalFile));
        int i = 0;
        for (var e : fake.entrySet()) {
            Path dir = work.resolve("fake-" + i++);
            Files.createDirectories(dir);
            try (HfCheckpoint ck = HfCheckpoint.open(model)) {
                Map<String, Tensor> tensors = new LinkedHashMap<>();
                for (String name : ck.tensorNames()) {
                    float[] q = e.getValue().get(name);
                    tensors.put(name, q == null ? ck.tensor(name) : Tensor.ofFloats(q, ck.shape(name)));
                }
                SafetensorsWriter.write(dir.resolve(HfCheckpoint.SINGLE), tensors, Map.of());
            }
            try (var files = Files.list(model)) {
                for (Path f : files.filter(f -> !f.getFileName().toString().endsWith(".safetensors")).toList()) {
                    Files.copy(f, dir.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            out.printf("| %s | %.1f | %.4f |%n", e.getKey(), loss.get(e.getKey()), ppl(dir, text, evalFile));
        }
    }

    private double ppl(Path dir, String text, Path evalFile) throws IOException {
        try (LanguageModel m = Models.open(dir, null)) {
            return Perplexity.evaluate(m, text, 256, evalFile.getFileName().toString(), n -> {}).ppl();
        }
    }

    private static void print(PrintStream out, Shape gauss, Map<String, Shape[]> shapes, Map<String, String> dims,
            Sums loss, Sums alpha, Sums alphaRow, Sums misc, PolarCodec a14, PolarCodec a16) {
        out.println("## 1. Gaussianity: W/RMS (raw), the spec's Hadamard W', a dense random orthogonal W'\n");
        out.println("Excess kurtosis of entries; std of the 8-vector norms ‖v‖ (rows 8t..8t+7 of a column) / RMS-matched χ₈;"
                + " nearest-codeword MSE per dimension of the a = 14 codec ÷ mean square of the entries.\n");
        out.println("| layer | shape | Hadamard block out / in | kurtosis raw / Had / dense | ‖v‖ std raw / Had / dense"
                + " | codec MSE raw / Had / dense | row RMS std/mean raw / Had / dense |");
        out.println("|---|---|---|---|---|---|---|");
        out.printf("| N(0,1) reference | 2^16 vectors | – | %.2f | %.3f | %.4f | – |%n", gauss.kurtosis(), gauss.normStd(),
                gauss.codecMse());
        for (var e : shapes.entrySet()) {
            Shape[] s = e.getValue();
            out.printf("| %s | %s | %.2f / %.2f / %.2f | %.3f / %.3f / %.3f | %.4f / %.4f / %.4f | %.3f / %.3f / %.3f |%n",
                    e.getKey(), dims.get(e.getKey()), s[0].kurtosis(), s[1].kurtosis(), s[2].kurtosis(), s[0].normStd(),
                    s[1].normStd(), s[2].normStd(), s[0].codecMse(), s[1].codecMse(), s[2].codecMse(),
                    s[0].rowSpread(), s[1].rowSpread(), s[2].rowSpread());
        }
        out.println("\n## 2. Σ proxy loss tr((W−Q)H(W−Q)ᵀ) per layer kind (5 layers each; loop Q, fp32 scales)\n");
        out.println("| layer | GPTQ-INT2-g128 | PCDVQ-2.0 (spec) | dense rotation | row scale after rot. | row scale before rot."
                + " | dense + row scale before | PCDVQ-2.25 |");
        out.println("|---|---:|---:|---:|---:|---:|---:|---:|");
        int[] cols = {0, 1, 2, 3, 4, 9, 5};
        for (var e : loss.byKind.entrySet()) out.println(row(e.getKey(), e.getValue(), cols));
        out.println(row("**Σ**", loss.total(), cols));

        out.println("\n## 3. PCDVQ-2.0 with its scale(s) multiplied by α (Σ proxy loss; α = 1 is the RMS)\n");
        StringBuilder head = new StringBuilder("| layer |"), sep = new StringBuilder("|---|");
        int[] all = new int[ALPHAS.length];
        for (int i = 0; i < ALPHAS.length; i++) {
            head.append(" α ").append(ALPHAS[i]).append(" |");
            sep.append("---:|");
            all[i] = i;
        }
        out.println(head + "\n" + sep);
        for (var e : alpha.byKind.entrySet()) out.println(row(e.getKey(), e.getValue(), all));
        out.println(row("**Σ, one layer scale (spec)**", alpha.total(), all));
        out.println(row("**Σ, row scale after rotation**", alphaRow.total(), all));

        double[] l = loss.total(), m = misc.total();
        out.println("\n## 4. Error feedback: no feedback (RTN / nearest codeword) vs GPTQ (act-order)\n");
        out.println("| | INT2-g128 (H-weighted clip) | PCDVQ-2.0 |");
        out.println("|---|---:|---:|");
        out.printf("| ‖W−Q‖²/‖W‖² without feedback | %.4f | %.4f |%n", m[1] / m[0], m[2] / m[0]);
        out.printf("| Σ proxy loss without feedback | %.1f | %.1f |%n", l[6], l[7]);
        out.printf("| Σ proxy loss GPTQ (act-order) | %.1f | %.1f |%n", l[0], l[1]);
        out.printf("| GPTQ / no feedback | %.3f | %.3f |%n", l[0] / l[6], l[1] / l[7]);
        out.printf("| PCDVQ GPTQ without act-order | – | %.1f |%n", l[8]);
        out.printf("| RMS of the values the coder is given (rotated, ÷ s): no feedback / GPTQ | – | %.3f / %.3f |%n",
                Math.sqrt(m[4] / m[5]), Math.sqrt(m[3] / m[5]));
        out.println("\n| layer | INT2 no feedback | PCDVQ-2.0 no feedback | GPTQ-INT2-g128 | PCDVQ-2.0 GPTQ | PCDVQ-2.0 GPTQ, no act-order |");
        out.println("|---|---:|---:|---:|---:|---:|");
        int[] fb = {6, 7, 0, 1, 8};
        for (var e : loss.byKind.entrySet()) out.println(row(e.getKey(), e.getValue(), fb));

        out.println("\n## 5. Stored bits per weight over the quantized linears\n");
        out.println("| recipe | indices | + per-layer side data | + act-order perm | + universal codebook (once) | Σ proxy loss |");
        out.println("|---|---:|---:|---:|---:|---:|");
        double n = m[5];
        out.printf("| gptq-int2-g128 | 2.000 | %.3f | %.3f | – | %.1f |%n", m[6] / n, (m[6] + m[7]) / n, l[0]);
        polarBits(out, "pcdvq-2.0", a14, m, l[1]);
        polarBits(out, "pcdvq-2.25", a16, m, l[5]);
        double rowScales = 16 * m[10];                                      // one fp16 per output row
        double side = m[8] * a14.codeBits() + m[9] + rowScales;
        out.printf("| pcdvq-2.0 + fp16 row scale after rotation (experiment) | %.3f | %.3f | %.3f | %.3f | %.1f |%n",
                m[8] * a14.codeBits() / n, side / n, (side + m[7]) / n,
                (side + m[7] + (a14.directionCount() * K + a14.magnitudeCount()) * 16.0) / n, l[3]);
    }

    private static void polarBits(PrintStream out, String name, PolarCodec c, double[] m, double loss) {
        double n = m[5], index = m[8] * c.codeBits(), side = index + m[9];
        double codebook = (c.directionCount() * K + c.magnitudeCount()) * 16.0;   // fp16, once per checkpoint
        out.printf("| %s | %.3f | %.3f | %.3f | %.3f | %.1f |%n", name, index / n, side / n, (side + m[7]) / n,
                (side + m[7] + codebook) / n, loss);
    }

    private static String row(String name, double[] v, int[] cols) {
        StringBuilder b = new StringBuilder("| ").append(name).append(" |");
        for (int c : cols) b.append(String.format(" %.1f |", v[c]));
        return b.toString();
    }

    /** A square synthetic layer, Gaussian and heavy-tailed weights, one correlated Hessian: INT2 vs PCDVQ-2.0. */
    private static void synthetic(PrintStream out, int width, Recipe int2, GptqLoop loop, PolarCodec a14) {
        System.err.printf("synthetic %dx%d%n", width, width);
        double[] h = SyntheticLayer.correlatedHessian(width, 2 * width, 8, 1.0, 7, Parallel.common());
        List<String> lines = new ArrayList<>();
        for (boolean heavy : new boolean[] {false, true}) {
            float[] w = SyntheticLayer.weights(width, width, 11);
            if (heavy) heavyTails(w, width, width, 13);
            ScalarGroupQuantizer sq = ScalarGroupQuantizer.forRecipe(int2, width);
            double li = lossOf(w, loop.quantize(w, width, width, h, sq).dequantized(), width, width, h);
            double liRtn = lossOf(w, loop.roundToNearest(w, width, width, h, sq).dequantized(), width, width, h);
            Options spec = Options.spec();
            double lp = lossOf(w, PcdvqVariant.quantize(w, width, width, h, 0, a14, spec).dequantized(), width, width, h);
            double lpRtn = lossOf(w, PcdvqVariant.quantize(w, width, width, h, 0, a14, spec.withGptq(false)).dequantized(),
                    width, width, h);
            lines.add(String.format("| %d×%d | %s | %.4g | %.4g | %.3f | %.4g | %.4g | %.3f |", width, width,
                    heavy ? "t₃ × log-normal column scales" : "Gaussian", liRtn, lpRtn, lpRtn / liRtn, li, lp, lp / li));
        }
        out.printf("%n## 7. Synthetic %d×%d layer (SyntheticLayer H: %d samples, 8 factors, σ 1.0, seed 7; W seed 11)%n%n",
                width, width, 2 * width);
        out.println("| shape | weights | INT2 no feedback | PCDVQ-2.0 no feedback | ratio | GPTQ-INT2-g128 | PCDVQ-2.0 (GPTQ) | ratio |");
        out.println("|---|---|---:|---:|---:|---:|---:|---:|");
        lines.forEach(out::println);
    }

    /** Real-ish weights: Student-t₃ entries (heavy tails) times log-normal per-input-channel scales (outlier columns). */
    private static void heavyTails(float[] w, int rows, int cols, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[] colScale = new double[cols];
        for (int j = 0; j < cols; j++) colScale[j] = Math.exp(0.5 * rng.nextGaussian());
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                double z = rng.nextGaussian(), chi2 = 0;
                for (int d = 0; d < 3; d++) {
                    double y = rng.nextGaussian();
                    chi2 += y * y;
                }
                w[r * cols + j] = (float) (0.02 * colScale[j] * z / Math.sqrt(chi2 / 3));
            }
        }
    }

    private static double lossOf(float[] w, float[] q, int rows, int cols, double[] h) {
        return ProxyLoss.of(w, q, rows, cols, h, Parallel.common());
    }

    private static double sq(float[] a) {
        double s = 0;
        for (float x : a) s += (double) x * x;
        return s;
    }

    private static double sqDiff(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
        return s;
    }
}
