/**
 * safetensors read and write, independent of the tensor class.
 *
 * <p>{@link dev.sisma.engine.io.SafeTensorsFile} memory-maps a file with the FFM API (files over
 * 2 GB included), validates the whole header before anything is used and hands out zero-copy
 * {@link java.lang.foreign.MemorySegment} views per tensor, or converts F32/F16/BF16 data to
 * float32. {@link dev.sisma.engine.io.SafeTensorsWriter} writes F32 (and F16/BF16) atomically:
 * a temp file in the target's folder, fsync, then an atomic rename. Every problem with a file is a
 * {@link dev.sisma.engine.io.SafeTensorsException} whose message names the file and the tensor.
 * 1.1.0: {@link dev.sisma.engine.io.DType#toHalf} and {@link dev.sisma.engine.io.DType#fromHalf}.
 */
@Export
@Version("1.1.0")
package dev.sisma.engine.io;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
