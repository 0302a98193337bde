package io.quantmesh.mesh;

/**
 * The input of a stage can never succeed (unknown recipe, missing or corrupt checkpoint, an artifact URI outside the
 * store): the job fails at once with this message as its reason, without retries. {@link IllegalArgumentException}
 * is treated the same way.
 */
public final class BadInputException extends RuntimeException {
    public BadInputException(String message) {
        super(message);
    }

    public BadInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
