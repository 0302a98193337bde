package io.quantmesh.codebook.grpc;

import io.quantmesh.core.store.Sha256;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.quantmesh.codebook.Cancellation;
import io.quantmesh.codebook.CodebookCache;
import io.quantmesh.codebook.PolarKey;
import io.quantmesh.codebook.WeightedKMeans;
import io.quantmesh.core.codec.BitPacker;
import io.quantmesh.core.codec.KMeansCodec;
import io.quantmesh.core.codec.PolarCodec;
import io.quantmesh.core.parallel.Parallel;
import io.quantmesh.core.safetensors.SafetensorsFile;
import io.quantmesh.core.tensor.Tensor;
import io.quantmesh.proto.v1.ArtifactRef;
import io.quantmesh.proto.v1.BuildKMeansCodebookRequest;
import io.quantmesh.proto.v1.BuildPolarCodebookRequest;
import io.quantmesh.proto.v1.Codebook;
import io.quantmesh.proto.v1.CodebookInfo;
import io.quantmesh.proto.v1.CodebookServiceGrpc;
import io.quantmesh.proto.v1.DecodeIndicesRequest;
import io.quantmesh.proto.v1.DecodeIndicesResponse;
import io.quantmesh.proto.v1.EncodeVectorsRequest;
import io.quantmesh.proto.v1.EncodeVectorsResponse;
import io.quantmesh.proto.v1.GetCodebookRequest;
import io.quantmesh.proto.v1.PolarCodebookKey;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.CancellationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The gRPC adapter of codebook-svc: argument checks and status mapping around {@link CodebookCache}. */
public final class CodebookGrpcService extends CodebookServiceGrpc.CodebookServiceImplBase {
    private static final Logger log = LoggerFactory.getLogger(CodebookGrpcService.class);

    /** Request limits: inline payload bytes (vectors + weights, or a decoded response) and artifact vector floats. */
    public record Limits(long maxInlineBytes, long maxArtifactFloats) {
        public static final Limits DEFAULT = new Limits(16L << 20, 1L << 26);
    }

    private final CodebookCache cache;
    private final Limits limits;
    private final Parallel parallel;

    public CodebookGrpcService(CodebookCache cache, Limits limits, Parallel parallel) {
        this.cache = cache;
        this.limits = limits;
        this.parallel = parallel;
    }

    @FunctionalInterface
    private interface Call<T> {
        T run(Cancellation cancel) throws IOException;
    }

    // Runs a call with the request's cancellation and deadline, mapping failures to statuses with a message.
    private <T> void handle(String rpc, StreamObserver<T> out, Call<T> call) {
        Context ctx = Context.current();
        Cancellation cancel = () -> {
            if (ctx.isCancelled()) throw new CancellationException("request cancelled or past its deadline");
        };
        try {
            cancel.check();
            T result = call.run(cancel);
            out.onNext(result);
            out.onCompleted();
        } catch (IllegalArgumentException e) {
            out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
        } catch (StatusRuntimeException e) {
            out.onError(e);
        } catch (CancellationException e) {
            boolean late = ctx.getDeadline() != null && ctx.getDeadline().isExpired();
            out.onError((late ? Status.DEADLINE_EXCEEDED : Status.CANCELLED).withDescription(rpc + ": " + e.getMessage()).asRuntimeException());
        } catch (NoSuchFileException e) {
            out.onError(Status.NOT_FOUND.withDescription("no such artifact: " + e.getMessage()).asRuntimeException());
        } catch (IOException | RuntimeException e) {
            log.warn("{} failed", rpc, e);
            out.onError(Status.INTERNAL.withDescription(rpc + ": " + e).asRuntimeException());
        }
    }

    @Override
    public void buildPolarCodebook(BuildPolarCodebookRequest req, StreamObserver<CodebookInfo> out) {
        handle("BuildPolarCodebook", out, cancel -> {
            if (!req.hasKey()) throw new IllegalArgumentException("key is required");
            PolarKey key = key(req.getKey());
            CodebookCache.StoredPolar s;
            if (req.hasRefineVectors()) {
                if (req.getRefineIterations() < 1 || req.getRefineIterations() > 100) {
                    throw new IllegalArgumentException("refine_iterations must be 1..100, got " + req.getRefineIterations());
                }
                checkInline(req.getRefineVectors().getData().size(), "refine_vectors");
                float[] v = TensorMessages.vectors(req.getRefineVectors(), key.k(), "refine_vectors");
                s = cache.polarRefined(key, v, req.getRefineIterations(), parallel, cancel);
            } else {
                s = cache.polar(key, parallel, cancel);
            }
            return info(s);
        });
    }

    @Override
    public void buildKMeansCodebook(BuildKMeansCodebookRequest req, StreamObserver<CodebookInfo> out) {
        handle("BuildKMeansCodebook", out, cancel -> {
            int k = req.getK();
            if (k < 1 || k > 64) throw new IllegalArgumentException("vector size k must be 1..64, got " + k);
            int iterations = req.getMaxIterations() == 0 ? 100 : req.getMaxIterations();
            WeightedKMeans.Spec spec = new WeightedKMeans.Spec(k, req.getClusters(), req.getSeed(), iterations, req.getTolerance());
            float[] x;
            float[] w;
            switch (req.getSourceCase()) {
                case INLINE -> {
                    var in = req.getInline();
                    if (!in.hasVectors()) throw new IllegalArgumentException("inline.vectors is required");
                    checkInline(in.getVectors().getData().size() + 4L * in.getWeightsCount(), "inline vectors and weights");
                    x = TensorMessages.vectors(in.getVectors(), k, "inline.vectors");
                    int n = x.length / k;
                    if (in.getWeightsCount() != 0 && in.getWeightsCount() != n) {
                        throw new IllegalArgumentException("got " + in.getWeightsCount() + " weights for " + n + " vectors");
                    }
                    w = in.getWeightsCount() == 0 ? null : toArray(in.getWeightsList());
                }
                case ARTIFACT -> {
                    float[][] xw = readArtifact(req.getArtifact(), k);
                    x = xw[0];
                    w = xw[1];
                }
                default -> throw new IllegalArgumentException("a source (inline vectors or an artifact) is required");
            }
            return info(cache.kmeans(x, w, x.length / k, spec, parallel, cancel));
        });
    }

    @Override
    public void getCodebook(GetCodebookRequest req, StreamObserver<Codebook> out) {
        handle("GetCodebook", out, cancel -> {
            CodebookCache.Stored s = lookup(switch (req.getRefCase()) {
                case ID -> req.getId();
                case POLAR_KEY -> key(req.getPolarKey()).id();
                default -> throw new IllegalArgumentException("an id or a polar_key is required");
            });
            Codebook.Builder b = Codebook.newBuilder().setInfo(info(s));
            if (req.getIncludeTensors()) {
                switch (s) {
                    case CodebookCache.StoredPolar p -> {
                        PolarCodec c = p.codec();
                        b.addTensors(TensorMessages.f32("directions", c.directions(), c.directionCount(), c.k()));
                        b.addTensors(TensorMessages.f32("magnitudes", c.magnitudes(), c.magnitudeCount()));
                    }
                    case CodebookCache.StoredKMeans m -> {
                        KMeansCodec c = m.codec();
                        b.addTensors(TensorMessages.f32("centroids", c.centroids(), c.size(), c.k()));
                    }
                }
            }
            return b.build();
        });
    }

    @Override
    public void encodeVectors(EncodeVectorsRequest req, StreamObserver<EncodeVectorsResponse> out) {
        handle("EncodeVectors", out, cancel -> {
            CodebookCache.Stored s = lookup(req.getCodebookId());
            if (!req.hasVectors()) throw new IllegalArgumentException("vectors are required");
            checkInline(req.getVectors().getData().size(), "vectors");
            int k = s.k();
            float[] x = TensorMessages.vectors(req.getVectors(), k, "vectors");
            int n = x.length / k;
            int[] codes;
            float[] y;
            int bits;
            switch (s) {
                case CodebookCache.StoredPolar p -> {
                    codes = p.codec().encode(x, n, PolarCodec.Search.PRUNED, parallel);
                    y = p.codec().decode(codes, n);
                    bits = p.codec().codeBits();
                }
                case CodebookCache.StoredKMeans m -> {
                    codes = m.codec().encode(x, n, m.codec().defaultSearch(), parallel);
                    y = m.codec().decode(codes, n);
                    bits = m.codec().codeBits();
                }
            }
            double e = 0;
            for (int i = 0; i < x.length; i++) e += (double) (x[i] - y[i]) * (x[i] - y[i]);
            EncodeVectorsResponse.Builder r = EncodeVectorsResponse.newBuilder().setIndexBits(bits).setMse(e / x.length);
            for (int c : codes) r.addIndices(c);
            if (req.getPacked()) r.setPackedIndices(TensorMessages.ints(BitPacker.pack(codes, bits)));
            return r.build();
        });
    }

    @Override
    public void decodeIndices(DecodeIndicesRequest req, StreamObserver<DecodeIndicesResponse> out) {
        handle("DecodeIndices", out, cancel -> {
            CodebookCache.Stored s = lookup(req.getCodebookId());
            int bits = switch (s) {
                case CodebookCache.StoredPolar p -> p.codec().codeBits();
                case CodebookCache.StoredKMeans m -> m.codec().codeBits();
            };
            int[] codes;
            if (!req.getPackedIndices().isEmpty()) {
                if (req.getIndicesCount() > 0) throw new IllegalArgumentException("give indices or packed_indices, not both");
                checkInline(req.getPackedIndices().size(), "packed_indices");
                long count = req.getCount();
                if (count < 1 || count * s.k() * 4 > limits.maxInlineBytes()) {
                    throw new IllegalArgumentException("count must be 1.." + limits.maxInlineBytes() / (4L * s.k()) + ", got " + count);
                }
                codes = BitPacker.unpack(TensorMessages.ints(req.getPackedIndices()), bits, (int) count);
            } else {
                if (req.getIndicesCount() == 0) throw new IllegalArgumentException("indices are required");
                checkInline(4L * req.getIndicesCount() * s.k(), "decoded vectors");
                codes = new int[req.getIndicesCount()];
                for (int i = 0; i < codes.length; i++) {
                    int c = req.getIndices(i);
                    if (c < 0 || (bits < 31 && c >= 1 << bits)) throw new IllegalArgumentException("index " + Integer.toUnsignedString(c) + " at " + i + " exceeds " + bits + " bits");
                    codes[i] = c;
                }
            }
            float[] y = switch (s) {
                case CodebookCache.StoredPolar p -> p.codec().decode(codes, codes.length);
                case CodebookCache.StoredKMeans m -> m.codec().decode(codes, codes.length);
            };
            return DecodeIndicesResponse.newBuilder().setVectors(TensorMessages.f32("vectors", y, codes.length, s.k())).build();
        });
    }

    private CodebookCache.Stored lookup(String id) throws IOException {
        if (id.isEmpty()) throw new IllegalArgumentException("codebook_id is required");
        return cache.get(id).orElseThrow(() -> Status.NOT_FOUND.withDescription("no codebook " + id).asRuntimeException());
    }

    private static PolarKey key(PolarCodebookKey k) {
        int version = k.getVersion() == 0 ? io.quantmesh.codebook.PolarCodebook.Recipe.LATEST : k.getVersion();
        return new PolarKey(k.getK(), k.getDirectionBits(), k.getMagnitudeBits(), k.getSeed(), version);
    }

    private void checkInline(long bytes, String what) {
        if (bytes > limits.maxInlineBytes()) {
            throw new IllegalArgumentException(what + ": inline payload of " + bytes + " bytes exceeds the limit of "
                    + limits.maxInlineBytes() + " bytes; pass an artifact instead");
        }
    }

    private float[][] readArtifact(ArtifactRef ref, int k) throws IOException {
        Path p = cache.resolveArtifact(ref.getUri());
        if (!Files.isRegularFile(p)) throw Status.NOT_FOUND.withDescription("no artifact " + ref.getUri()).asRuntimeException();
        if (!ref.getSha256().isEmpty() && !ref.getSha256().equalsIgnoreCase(Sha256.of(p))) {
            throw new IllegalArgumentException("artifact " + ref.getUri() + " does not match its sha256");
        }
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            if (!f.contains("vectors")) throw new IllegalArgumentException("artifact " + ref.getUri() + " has no tensor 'vectors'");
            Tensor v = f.tensor("vectors");
            if (!v.dtype().isFloating() || v.rank() != 2 || v.dim(1) != k) {
                throw new IllegalArgumentException("artifact vectors must be a floating [n, " + k + "] tensor, got " + v);
            }
            if (v.numel() > limits.maxArtifactFloats()) {
                throw new IllegalArgumentException("artifact holds " + v.numel() + " floats, over the limit of " + limits.maxArtifactFloats());
            }
            float[] x = v.toFloatArray();
            for (int i = 0; i < x.length; i++) {
                if (!Float.isFinite(x[i])) throw new IllegalArgumentException("artifact vector " + i / k + " has a non-finite element");
            }
            float[] w = null;
            if (f.contains("weights")) {
                Tensor wt = f.tensor("weights");
                if (!wt.dtype().isFloating() || wt.numel() != v.dim(0)) {
                    throw new IllegalArgumentException("artifact weights must be " + v.dim(0) + " floats, got " + wt);
                }
                w = wt.toFloatArray();
            }
            return new float[][] {x, w};
        } catch (io.quantmesh.core.safetensors.SafetensorsFormatException e) {
            throw new IllegalArgumentException("artifact " + ref.getUri() + " is not a valid safetensors file: " + e.getMessage());
        }
    }

    private static float[] toArray(java.util.List<Float> l) {
        float[] a = new float[l.size()];
        for (int i = 0; i < a.length; i++) a[i] = l.get(i);
        return a;
    }

    static CodebookInfo info(CodebookCache.Stored s) {
        CodebookInfo.Builder b = CodebookInfo.newBuilder().setId(s.id()).setK(s.k()).setCached(s.cached())
                .setBuildSeconds(s.buildSeconds()).putAllMetadata(s.metadata())
                .setArtifact(ArtifactRef.newBuilder().setUri(s.file().uri()).setSha256(s.file().sha256()).setSizeBytes(s.file().sizeBytes()));
        switch (s) {
            case CodebookCache.StoredPolar p -> b.setKind("polar").setSize(p.codec().directionCount())
                    .setIndexBits(p.codec().codeBits()).setMagnitudeBits(p.codec().magnitudeBits())
                    .setBitsPerWeight(p.codec().codeBits() / (double) p.k());
            case CodebookCache.StoredKMeans m -> b.setKind("kmeans").setSize(m.codec().size())
                    .setIndexBits(m.codec().codeBits()).setBitsPerWeight(m.codec().codeBits() / (double) m.k());
        }
        return b.build();
    }

}
