/* .kfr: Kiln's binary columnar frame file. Read and written through
 * kn_frame_read / kn_frame_write (format "kfr"); this header documents the
 * byte layout. All integers are little-endian.
 *
 *   offset  size  field
 *   0       8     magic "KILNFRM\0"
 *   8       2     major version (1, or 2 when the frame has an int64 column):
 *                 a reader refuses a newer major (KN_ERR_VERSION)
 *   10      2     minor version (1.1: column encodings; 2.0: int64 columns, type 4)
 *   12      4     flags (0)
 *   16      8     n_rows
 *   24      4     n_cols
 *   28      4     reserved (0)
 *   32      ...   n_cols column records:
 *                   u32 name length, name bytes (UTF-8)
 *                   u8 type (kn_col_type), u8 role (kn_role),
 *                   u8 encoding (kn_encoding; minor 1), u8 reserved
 *                   u64 n_levels (categorical) or text bytes (string), else 0
 *                   blobs, each "u64 raw length, u64 stored length, zstd frame":
 *                     numeric      f64[n_rows]
 *                     categorical  i32 codes[n_rows]; u32 level lengths[n_levels];
 *                                  level bytes (concatenated)
 *                     string       i64 offsets[n_rows] (-1 = missing);
 *                                  i64 lengths[n_rows]; text bytes
 *                     timestamp    i64 microseconds[n_rows]
 *                     int64        i64 values[n_rows] (INT64_MIN = missing; major 2)
 *   end-40  32    checksum of every byte before it: BLAKE2b-256 over the
 *                 concatenated BLAKE2b-256 hashes of its 4 MiB chunks (the
 *                 chunks hash in parallel)
 *   end-8   8     end magic "KFREND01"
 *
 * Loading checks the checksum, every length and offset, every code and
 * string span: a truncated or corrupted file is KN_ERR_CORRUPT, never a crash.
 * Same frame, same bytes: the writer is deterministic.
 */
#ifndef KILN_KFR_H
#define KILN_KFR_H

#include "kiln/core.h"

/* The newest version written (for frames with an int64 column) ... */
#define KN_KFR_MAJOR 2
#define KN_KFR_MINOR 0
/* ... and the version of every other frame, so older readers still read them. */
#define KN_KFR_MINOR_1 1

#endif
