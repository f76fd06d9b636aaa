/* net_util.h: loopback listeners and free ports for tests. */
#ifndef PP_TEST_NET_UTIL_H
#define PP_TEST_NET_UTIL_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

/* A listening socket on 127.0.0.1 (port 0 picks one); returns the fd, *port set. */
static inline int test_listen(uint16_t want, uint16_t *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(want)};
	socklen_t len = sizeof(a);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	*port = 0;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == -1 || listen(fd, 1024) == -1) {
		close(fd);
		return -1;
	}
	getsockname(fd, (struct sockaddr *)&a, &len);
	*port = ntohs(a.sin_port);
	return fd;
}

/* A port on 127.0.0.1 that nothing listens on (bound, then released). */
static inline uint16_t test_closed_port(void)
{
	uint16_t port = 0;
	int fd = test_listen(0, &port);

	close(fd);
	return port;
}

#endif
