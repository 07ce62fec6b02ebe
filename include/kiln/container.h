/* Kiln's checksummed file container, shared by fitted-step files (.kst) and
 * model files (.kmd):
 *
 *   8 bytes   magic (names the kind of file)
 *   4 bytes   format version (little-endian)
 *   ...       payload (the kind's own encoding, see codec.h)
 *   32 bytes  BLAKE2b-256 of everything before it
 *   8 bytes   end magic "KCNEND01"
 *
 * Written to a temporary name and renamed, so a crash never leaves half a
 * file. Opening checks the magic, the end marker, the checksum and the
 * version before a single payload byte is decoded.
 */
#ifndef KILN_CONTAINER_H
#define KILN_CONTAINER_H

#include "kiln/codec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Write magic, version, the payload bytes of w, checksum and end marker. */
KN_API kn_status kn_container_write(const char *path, const char magic[8], uint32_t version,
                                    const kn_wbuf *payload);

/* Read and check a container: *r reads the payload; *buf (kn_free) holds it.
 * `kind` names the file kind in errors ("steps file"). Versions above
 * max_version are KN_ERR_VERSION; *version receives the file's. */
KN_API kn_status kn_container_read(const char *path, const char magic[8], const char *kind,
                                   uint32_t max_version, char **buf, kn_rbuf *r, uint32_t *version);

#ifdef __cplusplus
}
#endif
#endif
