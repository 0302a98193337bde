package io.quantmesh.mesh;

import io.quantmesh.core.recipe.Recipe;
import io.quantmesh.proto.v1.JobSpec;

import java.util.regex.Pattern;

/** The checks every stage makes of a job's spec before it spends any work on it; failures are bad input. */
public final class JobSpecs {
    private static final Pattern JOB_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private JobSpecs() {}

    /** The job id, which names the job's directory in the store: one safe path segment. */
    public static String jobId(JobSpec spec) {
        if (!JOB_ID.matcher(spec.getJobId()).matches()) {
            throw new BadInputException("job id '" + spec.getJobId() + "' is not 1-128 of [A-Za-z0-9._-]");
        }
        return spec.getJobId();
    }

    /** The spec's registered recipe; an unknown name lists the known ones. */
    public static Recipe recipe(JobSpec spec) {
        try {
            return Recipe.named(spec.getRecipe());
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage());
        }
    }
}
