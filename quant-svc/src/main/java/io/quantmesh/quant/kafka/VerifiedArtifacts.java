package io.quantmesh.quant.kafka;

import io.quantmesh.core.store.ArtifactStore;
import io.quantmesh.core.store.StoredArtifact;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@link ArtifactStore#verified} once per file version. Every task of a job reads the same Hessian artifact, which is
 * gigabytes for a 7B model: hashing it per layer would cost more than quantizing the layer. The store only ever
 * replaces a file by an atomic rename, which gives it a new file key and modification time, so a file whose key,
 * time and size are those it had when its sha256 was checked still has those bytes.
 */
final class VerifiedArtifacts {
    private static final int ENTRIES = 64;

    private record Version(Object fileKey, FileTime modified, long size) {
        static Version of(Path p) throws IOException {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
            return new Version(a.fileKey(), a.lastModifiedTime(), a.size());
        }
    }

    private final ArtifactStore store;
    private final Map<StoredArtifact, Version> checked = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<StoredArtifact, Version> e) {
            return size() > ENTRIES;
        }
    };

    VerifiedArtifacts(ArtifactStore store) {
        this.store = store;
    }

    ArtifactStore store() {
        return store;
    }

    /** The artifact's path, its size and sha256 checked (now, or earlier on this very file version). */
    Path verified(StoredArtifact expected) throws IOException {
        Path p = store.resolve(expected.uri());
        Version known;
        synchronized (checked) {
            known = checked.get(expected);
        }
        // the file key is null on file systems without inode numbers: then always re-check
        if (known != null && known.fileKey() != null && Files.exists(p) && known.equals(Version.of(p))) return p;
        Version before = Version.of(p);
        Path ok = store.verified(expected);
        if (before.equals(Version.of(ok))) {
            synchronized (checked) {
                checked.put(expected, before);
            }
        }
        return ok;
    }
}
