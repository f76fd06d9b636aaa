/* fuzz_cgroup_unit.c: cgroup_unit() on arbitrary paths. The bytes are cut
 * at the first NUL, as a path would be; beyond not crashing, the answer must
 * be NULL or a non-empty string of printable bytes (no control characters,
 * so it can go into any output format) no longer than the path plus 8. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "listen/listen_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = malloc(size + 1);
	char *unit;
	size_t len;

	if (!path)
		return 0;
	memcpy(path, data, size);
	path[size] = '\0';
	unit = cgroup_unit(path);
	if (unit) {
		len = strlen(unit);
		if (len == 0 || len > strlen(path) + 8)
			abort();
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)unit[i] < 0x20 || unit[i] == 0x7f)
				abort();
	}
	free(unit);
	free(path);
	return 0;
}
