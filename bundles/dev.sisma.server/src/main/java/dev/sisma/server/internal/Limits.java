package dev.sisma.server.internal;

/** What one request may ask for; the server refuses more with 400 or 413. */
record Limits(long maxUploadBytes, int maxImageSide, int maxSamples, int maxSteps, int queueCapacity) {
}
