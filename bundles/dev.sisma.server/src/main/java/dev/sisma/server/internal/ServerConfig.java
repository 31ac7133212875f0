package dev.sisma.server.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Config Admin PID {@value JobQueue#PID}: written by {@code sisma serve}; nothing of the server runs without it. */
@ObjectClassDefinition(name = "sisma server", description = "the job queue and limits of sisma serve")
@interface ServerConfig {
    @AttributeDefinition(description = "folder for the API token and the jobs (queued jobs survive a restart)")
    String state_dir();

    @AttributeDefinition(description = "require the API token (Authorization: Bearer TOKEN)")
    boolean auth() default true;

    @AttributeDefinition(description = "queued jobs at most; more are refused with 429")
    int queue_capacity() default 32;

    @AttributeDefinition(description = "largest mask upload in bytes; more is refused with 413")
    long max_upload_bytes() default 4L << 20;

    @AttributeDefinition(description = "largest mask width or height in pixels")
    int max_image_side() default 2048;

    @AttributeDefinition(description = "samples per job at most")
    int max_samples() default 16;

    @AttributeDefinition(description = "sampler steps per job at most")
    int max_steps() default 250;

    @AttributeDefinition(description = "finished jobs kept with their samples; older ones are deleted")
    int keep_finished() default 200;

    @AttributeDefinition(description = "folder of further models (NAME.safetensors) besides the bundled demo")
    String models_dir() default "";

    @AttributeDefinition(description = "jobs run at once per compute backend; more than 1 when the generator hands jobs to a cluster (serve --cluster)")
    int worker_slots() default 1;

    @AttributeDefinition(description = "format of the model's Linear weights for every job: f32, bf16 or f16 (blank: the system property sisma.weights, else f32)")
    String weights() default "";

    @AttributeDefinition(description = "folder that dataset references in job requests resolve in (none: only datasets without a folder)")
    String data_dir() default "";
}
