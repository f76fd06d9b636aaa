/* test_alert.c: the alert dispatcher against a real HTTP receiver and real
 * commands. The receiver is a thread with a listening socket on
 * 127.0.0.1:0 that reads one request per connection, records it with its
 * arrival time and answers with the next status of a script (or never).
 * Tests assert the exact bytes received, the number of requests, the
 * counters and the exact log lines; retry delays are shortened through the
 * options so the whole file runs in a few seconds. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "net_util.h"
#include "portprobe/alert.h"
#include "test.h"

#define T0 1700000000000ll /* a fixed epoch ms: 2023-11-14T22:13:20Z */

/* The body of sample(), as the webhook must receive it. */
#define SAMPLE_JSON                                                                                \
	"{\"event\":\"state_change\",\"check\":\"web\",\"unit\":\"web/tcp:443\","                  \
	"\"host\":\"www.example.com\",\"port\":443,\"from\":\"up\",\"to\":\"down\","               \
	"\"at\":\"2023-11-14T22:13:20.250Z\",\"at_ms\":1700000000250,"                             \
	"\"reason\":\"3 consecutive failures: Connection refused\",\"streak\":3,"                  \
	"\"previous_state_seconds\":3600.5,"                                                       \
	"\"labels\":{\"env\":\"prod\",\"team.name\":\"web \\\"ops\\\"\"},"                         \
	"\"portprobe_version\":\"" PP_VERSION "\"}"

static const struct pp_alert_label sample_labels[] = {
    {"env", "prod"},
    {"team.name", "web \"ops\""},
};

static struct pp_alert sample(void)
{
	return (struct pp_alert){
	    .check = "web",
	    .unit = "web/tcp:443",
	    .host = "www.example.com",
	    .port = 443,
	    .from = PP_HEALTH_UP,
	    .to = PP_HEALTH_DOWN,
	    .at_ms = T0 + 250,
	    .reason = "3 consecutive failures: Connection refused",
	    .streak = 3,
	    .prev_ms = 3600500,
	    .labels = sample_labels,
	    .nlabels = 2,
	};
}

static double since_s(uint64_t t0)
{
	return (double)(clock_now_ns() - t0) / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* Webhooks go to 127.0.0.1 directly, whatever the environment says. */
static void no_proxy(void)
{
	static const char *const vars[] = {"http_proxy",  "HTTP_PROXY", "https_proxy",
					   "HTTPS_PROXY", "all_proxy",  "ALL_PROXY"};

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
}

/* --- the receiver ----------------------------------------------------------- */

#define RX_MAX    64 /* requests recorded */
#define RX_SILENT 0  /* a "status": read the request, never answer, keep the connection */

struct rx {
	int fd;               /* listening socket */
	uint16_t port;        /* its port */
	pthread_t thread;     /* accepts, reads, answers */
	int status[8];        /* the answer to request i; the last one repeats */
	size_t nstatus;       /* entries in status */
	pthread_mutex_t lock; /* guards what follows */
	char *req[RX_MAX];    /* requests as received, head and body */
	uint64_t at[RX_MAX];  /* their arrival, monotonic ns */
	size_t n;             /* requests */
	int held[RX_MAX];     /* silent connections, closed at rx_stop */
	size_t nheld;         /* entries in held */
	bool stop;            /* rx_stop was called */
	char url[64];         /* http://127.0.0.1:PORT/hook */
};

/* One request: the head up to the blank line, then Content-Length bytes. */
static char *rx_read(int c)
{
	size_t cap = 65536, len = 0, want = (size_t)-1;
	char *buf = malloc(cap + 1);

	if (!buf)
		return NULL;
	while (len < cap && len < want) {
		struct pollfd p = {.fd = c, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 3000) <= 0)
			break;
		n = read(c, buf + len, cap - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (want == (size_t)-1) {
			char *end = strstr(buf, "\r\n\r\n"), *cl;

			if (!end)
				continue;
			cl = strcasestr(buf, "\r\nContent-Length:");
			want = (size_t)(end + 4 - buf) +
			       (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
		}
	}
	buf[len] = '\0';
	return buf;
}

static void *rx_main(void *data)
{
	struct rx *x = data;

	for (;;) {
		struct pollfd p = {.fd = x->fd, .events = POLLIN};
		char *req, answer[128];
		int c, status, n;
		bool stop;

		pthread_mutex_lock(&x->lock);
		stop = x->stop;
		pthread_mutex_unlock(&x->lock);
		if (stop)
			break;
		if (poll(&p, 1, 20) <= 0)
			continue;
		c = accept4(x->fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		req = rx_read(c);
		pthread_mutex_lock(&x->lock);
		status = x->status[x->n < x->nstatus ? x->n : x->nstatus - 1];
		if (x->n < RX_MAX) {
			x->req[x->n] = req;
			x->at[x->n] = clock_now_ns();
			x->n++;
		} else {
			free(req);
		}
		if (status == RX_SILENT && x->nheld < RX_MAX) {
			x->held[x->nheld++] = c;
			pthread_mutex_unlock(&x->lock);
			continue;
		}
		pthread_mutex_unlock(&x->lock);
		n = snprintf(answer, sizeof(answer),
			     "HTTP/1.1 %d Test\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
			     status);
		send(c, answer, (size_t)n, MSG_NOSIGNAL);
		close(c);
	}
	return NULL;
}

/* Starts a receiver answering request i with statuses[i] (the last repeats). */
static int rx_start(struct rx *x, const int *statuses, size_t n)
{
	memset(x, 0, sizeof(*x));
	pthread_mutex_init(&x->lock, NULL);
	memcpy(x->status, statuses, n * sizeof(*statuses));
	x->nstatus = n;
	x->fd = test_listen(0, &x->port);
	if (x->fd < 0)
		return -1;
	snprintf(x->url, sizeof(x->url), "http://127.0.0.1:%u/hook", x->port);
	return pthread_create(&x->thread, NULL, rx_main, x) ? -1 : 0;
}

static void rx_stop(struct rx *x)
{
	pthread_mutex_lock(&x->lock);
	x->stop = true;
	pthread_mutex_unlock(&x->lock);
	pthread_join(x->thread, NULL);
	close(x->fd);
	for (size_t i = 0; i < x->nheld; i++)
		close(x->held[i]);
	for (size_t i = 0; i < x->n; i++)
		free(x->req[i]);
	pthread_mutex_destroy(&x->lock);
}

static size_t rx_count(struct rx *x)
{
	size_t n;

	pthread_mutex_lock(&x->lock);
	n = x->n;
	pthread_mutex_unlock(&x->lock);
	return n;
}

/* Waits until n requests arrived (at most timeout_s); the count then. */
static size_t rx_wait(struct rx *x, size_t n, double timeout_s)
{
	uint64_t t0 = clock_now_ns();
	size_t got;

	while ((got = rx_count(x)) < n && since_s(t0) < timeout_s)
		sleep_ms(5);
	return got;
}

/* Request i's body (after the blank line); valid until rx_stop. */
static const char *rx_body(struct rx *x, size_t i)
{
	const char *end = strstr(x->req[i], "\r\n\r\n");

	return end ? end + 4 : "";
}

/* Request i's first line, or the value of its header name, into buf. */
static const char *rx_head(struct rx *x, size_t i, const char *name, char *buf, size_t len)
{
	const char *p = x->req[i], *end = strstr(p, "\r\n\r\n"), *eol;
	size_t nl = name ? strlen(name) : 0;

	buf[0] = '\0';
	while (end && p < end) {
		eol = strstr(p, "\r\n");
		if (!name) {
			snprintf(buf, len, "%.*s", (int)(eol - p), p);
			break;
		}
		if (p != x->req[i] && !strncasecmp(p, name, nl) && p[nl] == ':') {
			const char *v = p + nl + 1;

			while (*v == ' ')
				v++;
			snprintf(buf, len, "%.*s", (int)(eol - v), v);
			break;
		}
		p = eol + 2;
	}
	return buf;
}

/* --- log lines and alerters --------------------------------------------------- */

struct logs {
	pthread_mutex_t lock;
	char *line[16];
	int level[16];
	size_t n;
};

static void logs_cb(void *data, int level, const char *msg)
{
	struct logs *l = data;

	pthread_mutex_lock(&l->lock);
	if (l->n < 16) {
		l->line[l->n] = strdup(msg);
		l->level[l->n++] = level;
	}
	pthread_mutex_unlock(&l->lock);
}

static void logs_init(struct logs *l)
{
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
}

static void logs_release(struct logs *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->line[i]);
	pthread_mutex_destroy(&l->lock);
}

/* Options for url with retries 0.1 s apart and the log into l. */
static struct pp_alerter_opts test_opts(const char *url, struct logs *l)
{
	struct pp_alerter_opts o;

	no_proxy();
	pp_alerter_opts_init(&o);
	o.webhook = url;
	o.webhook_timeout = 3;
	o.webhook_retry_delay = 0.1;
	o.log = logs_cb;
	o.log_data = l;
	return o;
}

/* Waits until nothing is queued or in delivery (at most timeout_s); the counters then. */
static struct pp_alerter_stats wait_idle(struct pp_alerter *a, double timeout_s)
{
	uint64_t t0 = clock_now_ns();
	struct pp_alerter_stats st;

	for (;;) {
		pp_alerter_stats(a, &st);
		if (!st.queued || since_s(t0) >= timeout_s)
			return st;
		sleep_ms(5);
	}
}

/* The sample alert for unit u%02d (i). */
static struct pp_alert numbered(unsigned i, char *unit, size_t len)
{
	struct pp_alert al = sample();

	snprintf(unit, len, "u%02u", i);
	al.unit = unit;
	return al;
}

/* --- temporary files ---------------------------------------------------------- */

static char tmp_dir[128];

static void tmp_remove(void)
{
	static const char *const names[] = {"env", "bg"};
	char path[192];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmp_dir, names[i]);
		unlink(path);
	}
	rmdir(tmp_dir);
}

/* A fresh directory for this process's files, removed at exit. */
static const char *tmp_get(void)
{
	const char *base = getenv("TMPDIR");

	if (tmp_dir[0])
		return tmp_dir;
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/pp_alert_XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmp_dir))
		return NULL;
	atexit(tmp_remove);
	return tmp_dir;
}

/* The whole file at path (at most 64 KiB) into buf. */
static const char *slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	buf[0] = '\0';
	if (!f)
		return buf;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* --- tests -------------------------------------------------------------------- */

TEST_IMPL(alert_json_body_is_exact_and_escaped)
{
	struct pp_alert al = sample();
	struct pp_buf b;

	pp_buf_init(&b, 1 << 16);
	ASSERT_EQ(pp_alert_write_json(&b, &al), 0);
	ASSERT_STR_EQ(b.data, SAMPLE_JSON);

	/* unknown -> down, no labels, a reason with every kind of escape, 0 s */
	al.from = PP_HEALTH_UNKNOWN;
	al.reason = "a\"b\\c\nd\x01";
	al.labels = NULL;
	al.nlabels = 0;
	al.prev_ms = 0;
	al.at_ms = T0;
	al.port = 0;
	pp_buf_reset(&b);
	ASSERT_EQ(pp_alert_write_json(&b, &al), 0);
	ASSERT_STR_EQ(
	    b.data, "{\"event\":\"state_change\",\"check\":\"web\",\"unit\":\"web/tcp:443\","
		    "\"host\":\"www.example.com\",\"port\":0,\"from\":\"unknown\",\"to\":\"down\","
		    "\"at\":\"2023-11-14T22:13:20.000Z\",\"at_ms\":1700000000000,"
		    "\"reason\":\"a\\\"b\\\\c\\nd\\u0001\",\"streak\":3,"
		    "\"previous_state_seconds\":0,\"labels\":{},"
		    "\"portprobe_version\":\"" PP_VERSION "\"}");

	/* previous_state_seconds is the shortest exact decimal of the ms */
	static const struct {
		int64_t ms;
		const char *s;
	} secs[] = {{1000, "1"}, {1050, "1.05"}, {61234, "61.234"}, {7, "0.007"}, {90000, "90"}};
	for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
		char want[64];

		al.prev_ms = secs[i].ms;
		pp_buf_reset(&b);
		ASSERT_EQ(pp_alert_write_json(&b, &al), 0);
		snprintf(want, sizeof(want), "\"previous_state_seconds\":%s,", secs[i].s);
		if (!strstr(b.data, want))
			TEST_FAIL_("prev_ms %lld: %s not in %s", (long long)secs[i].ms, want,
				   b.data);
	}
	pp_buf_release(&b);
	return 0;
}

TEST_IMPL(alert_options_and_alerts_are_checked)
{
	struct pp_alerter *a = (struct pp_alerter *)&a, *keep = a;
	struct pp_alerter_opts o;
	struct pp_alert_label many[PP_ALERT_MAX_LABELS + 1];
	struct pp_alert al;
	char err[256], big[PP_ALERT_MAX_TEXT + 1];

	pp_alerter_opts_init(&o);
	ASSERT_TRUE(o.webhook == NULL && o.command == NULL && o.log == NULL);
	ASSERT_DBL_EQ(o.webhook_timeout, 5.0);
	ASSERT_EQ(o.webhook_attempts, 3);
	ASSERT_DBL_EQ(o.webhook_retry_delay, 1.0);
	ASSERT_DBL_EQ(o.command_timeout, 0.0);
	ASSERT_EQ(o.queue_max, 10000);

	o.webhook = "ftp://127.0.0.1/x";
	ASSERT_EQ(pp_alerter_new(&o, &a, err, sizeof(err)), -EINVAL);
	ASSERT_STR_EQ(err, "alerts: webhook: not an http:// or https:// URL with a host");
	ASSERT_TRUE(a == keep);
	o.webhook = "127.0.0.1:8080/hook"; /* no scheme: refused, not guessed */
	ASSERT_EQ(pp_alerter_new(&o, &a, err, sizeof(err)), -EINVAL);
	ASSERT_STR_EQ(err, "alerts: webhook: not an http:// or https:// URL with a host");
	o.webhook = "http://127.0.0.1:1/hook";
	o.webhook_attempts = 0;
	ASSERT_EQ(pp_alerter_new(&o, &a, err, sizeof(err)), -EINVAL);
	ASSERT_STR_EQ(err, "alerts: webhook attempts must be 1..10");
	o.webhook_attempts = 3;
	o.webhook_timeout = 0;
	ASSERT_EQ(pp_alerter_new(&o, &a, err, sizeof(err)), -EINVAL);
	ASSERT_STR_EQ(err, "alerts: webhook timeout must be > 0 and at most 3600 s");
	o.webhook_timeout = 5;
	o.command = "";
	ASSERT_EQ(pp_alerter_new(&o, &a, err, sizeof(err)), -EINVAL);
	ASSERT_STR_EQ(err, "alerts: command must be 1..65536 bytes");
	o.command = NULL;
	o.queue_max = 0;
	ASSERT_EQ(pp_alerter_new(&o, &a, err, sizeof(err)), -EINVAL);
	ASSERT_STR_EQ(err, "alerts: queue size must be 1..1000000");
	ASSERT_TRUE(a == keep);

	/* neither channel: accepted, nothing to deliver to */
	pp_alerter_opts_init(&o);
	ASSERT_EQ(pp_alerter_new(&o, &a, err, sizeof(err)), 0);
	al = sample();
	al.check = NULL;
	ASSERT_EQ(pp_alerter_post(a, &al), -EINVAL);
	al = sample();
	al.to = (enum pp_health)7;
	ASSERT_EQ(pp_alerter_post(a, &al), -EINVAL);
	al = sample();
	al.prev_ms = -1;
	ASSERT_EQ(pp_alerter_post(a, &al), -EINVAL);
	al = sample();
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	al.reason = big;
	ASSERT_EQ(pp_alerter_post(a, &al), -E2BIG);
	al = sample();
	for (size_t i = 0; i < PP_ALERT_MAX_LABELS + 1; i++)
		many[i] = (struct pp_alert_label){"l", "v"};
	al.labels = many;
	al.nlabels = PP_ALERT_MAX_LABELS + 1;
	ASSERT_EQ(pp_alerter_post(a, &al), -EINVAL);
	al.nlabels = PP_ALERT_MAX_LABELS;
	ASSERT_EQ(pp_alerter_post(a, &al), 0);
	al = sample();
	al.reason = NULL;
	ASSERT_EQ(pp_alerter_post(a, &al), 0);
	struct pp_alerter_stats st = wait_idle(a, 5);
	ASSERT_UEQ(st.queued, 0);
	ASSERT_UEQ(st.sent, 0);
	ASSERT_UEQ(st.failed, 0);
	ASSERT_UEQ(st.dropped, 0);
	pp_alerter_free(a, 1);
	pp_alerter_free(NULL, 1);
	return 0;
}

TEST_IMPL(alert_webhook_posts_the_exact_body_once_on_200)
{
	static const int answers[] = {200};
	struct pp_alerter_stats st;
	struct pp_alerter_opts o;
	struct pp_alerter *a;
	struct pp_alert al = sample();
	struct logs l;
	struct rx x;
	char h[256], err[256], want[64];

	logs_init(&l);
	ASSERT_EQ(rx_start(&x, answers, 1), 0);
	o = test_opts(x.url, &l);
	ASSERT_EQ(pp_alerter_new(&o, &a, err, sizeof(err)), 0);
	ASSERT_EQ(pp_alerter_post(a, &al), 0);
	st = wait_idle(a, 5);
	ASSERT_UEQ(st.queued, 0);
	ASSERT_UEQ(st.sent, 1);
	ASSERT_UEQ(st.failed, 0);
	ASSERT_UEQ(st.dropped, 0);
	sleep_ms(200); /* nothing else may come */
	ASSERT_EQ(rx_count(&x), 1);
	ASSERT_STR_EQ(rx_head(&x, 0, NULL, h, sizeof(h)), "POST /hook HTTP/1.1");
	ASSERT_STR_EQ(rx_head(&x, 0, "Content-Type", h, sizeof(h)), "application/json");
	ASSERT_STR_EQ(rx_head(&x, 0, "User-Agent", h, sizeof(h)), "portprobe/" PP_VERSION);
	snprintf(want, sizeof(want), "%zu", strlen(SAMPLE_JSON));
	ASSERT_STR_EQ(rx_head(&x, 0, "Content-Length", h, sizeof(h)), want);
	ASSERT_STR_EQ(rx_head(&x, 0, "Expect", h, sizeof(h)), "");
	ASSERT_STR_EQ(rx_body(&x, 0), SAMPLE_JSON);
	pp_alerter_free(a, 1);
	ASSERT_EQ(l.n, 0);
	rx_stop(&x);
	logs_release(&l);
	return 0;
}

TEST_IMPL(alert_webhook_500_is_tried_3_times_with_doubling_backoff)
{
	static const int answers[] = {500};
	struct pp_alerter_stats st;
	struct pp_alerter_opts o;
	struct pp_alerter *a;
	struct pp_alert al = sample();
	struct logs l;
	struct rx x;
	char err[256], want[256];
	double gap1, gap2;

	logs_init(&l);
	ASSERT_EQ(rx_start(&x, answers, 1), 0);
	o = test_opts(x.url, &l);
	ASSERT_EQ(pp_alerter_new(&o, &a, err, sizeof(err)), 0);
	ASSERT_EQ(pp_alerter_post(a, &al), 0);
	st = wait_idle(a, 5);
	ASSERT_UEQ(st.queued, 0);
	ASSERT_UEQ(st.sent, 0);
	ASSERT_UEQ(st.failed, 1);
	ASSERT_EQ(rx_count(&x), 3);
	for (size_t i = 0; i < 3; i++)
		ASSERT_STR_EQ(rx_body(&x, i), SAMPLE_JSON);
	/* 0.1 s, then 0.2 s */
	gap1 = (double)(x.at[1] - x.at[0]) / 1e9;
	gap2 = (double)(x.at[2] - x.at[1]) / 1e9;
	if (gap1 < 0.1 || gap1 > 0.6 || gap2 < 0.2 || gap2 > 0.7)
		TEST_FAIL_("backoff gaps %.3f s and %.3f s, want 0.1 and 0.2", gap1, gap2);
	pp_alerter_free(a, 1);
	ASSERT_EQ(l.n, 1);
	ASSERT_EQ(l.level[0], PP_ALERT_LOG_ERR);
	snprintf(
	    want, sizeof(want),
	    "alert web/tcp:443 up->down: webhook http://127.0.0.1:%u: HTTP 500 after 3 attempts; "
	    "it is down: later alerts get one attempt each until one is delivered",
	    x.port);
	ASSERT_STR_EQ(l.line[0], want);
	rx_stop(&x);
	logs_release(&l);
	return 0;
}

TEST_IMPL(alert_webhook_400_is_not_retried_and_the_log_hides_the_url_secret)
{
	static const int answers[] = {400};
	struct pp_alerter_stats st;
	struct pp_alerter_opts o;
	struct pp_alerter *a;
	struct pp_alert al = sample();
	struct logs l;
	struct rx x;
	char err[256], want[256], url[128], h[256];

	logs_init(&l);
	ASSERT_EQ(rx_start(&x, answers, 1), 0);
	snprintf(url, sizeof(url), "http://user:pass@127.0.0.1:%u/hook/SECRET?token=T0KEN", x.port);
	o = test_opts(url, &l);
	ASSERT_EQ(pp_alerter_new(&o, &a, err, sizeof(err)), 0);
	ASSERT_EQ(pp_alerter_post(a, &al), 0);
	st = wait_idle(a, 5);
	ASSERT_UEQ(st.queued, 0);
	ASSERT_UEQ(st.sent, 0);
	ASSERT_UEQ(st.failed, 1);
	sleep_ms(300); /* a retry would be due after 0.1 s */
	ASSERT_EQ(rx_count(&x), 1);
	ASSERT_STR_EQ(rx_head(&x, 0, NULL, h, sizeof(h)), "POST /hook/SECRET?token=T0KEN HTTP/1.1");
	ASSERT_STR_EQ(rx_head(&x, 0, "Authorization", h, sizeof(h)), "Basic dXNlcjpwYXNz");
	pp_alerter_free(a, 1);
	ASSERT_EQ(l.n, 1);
	snprintf(
	    want, sizeof(want),
	    "alert web/tcp:443 up->down: webhook http://127.0.0.1:%u: HTTP 400 after 1 attempt",
	    x.port);
	ASSERT_STR_EQ(l.line[0], want);
	rx_stop(&x);
	logs_release(&l);
	return 0;
}

TEST_IMPL(alert_webhook_503_then_200_is_one_alert_sent_in_two_requests)
{
	static const int answers[] = {503, 200};
	struct pp_alerter_stats st;
	struct pp_alerter_opts o;
	struct pp_alerter *a;
	struct pp_alert al = sample();
	struct logs l;
	struct rx x;
	char err[256];

	logs_init(&l);
	ASSERT_EQ(rx_start(&x, answers, 2), 0);
	o = test_opts(x.url, &l);
	ASSERT_EQ(pp_alerter_new(&o, &a, err, sizeof(err)), 0);
	ASSERT_EQ(pp_alerter_post(a, &al), 0);
	st = wait_idle(a, 5);
	ASSERT_UEQ(st.queued, 0);
	ASSERT_UEQ(st.sent, 1);
	ASSERT_UEQ(st.failed, 0);
	sleep_ms(300);
	ASSERT_EQ(rx_count(&x), 2);
	ASSERT_STR_EQ(rx_body(&x, 0), SAMPLE_JSON);
	ASSERT_STR_EQ(rx_body(&x, 1), SAMPLE_JSON);
	pp_alerter_free(a, 1);
	ASSERT_EQ(l.n, 0);
	rx_stop(&x);
	logs_release(&l);
	return 0;
}

TEST_IMPL(alert_webhook_408_and_429_are_retried)
{
	static const int answers[] = {408, 429, 204};
	struct pp_alerter_stats st;
	struct pp_alerter_opts o;
	struct pp_alerter *a;
	struct pp_alert al = sample();
	struct logs l;
	struct rx x;
	char err[256];

	logs_init(&l);
	ASSERT_EQ(rx_start(&x, answers, 3), 0);
	o = test_opts(x.url, &l);
	ASSERT_EQ(pp_alerter_new(&o, &a, err, sizeof(err)), 0);
	ASSERT_EQ(pp_alerter_post(a, &al), 0);
	st = wait_idle(a, 5);
	ASSERT_UEQ(st.sent, 1);
	ASSERT_UEQ(st.failed, 0);
	ASSERT_EQ(rx_count(&x), 3);
	pp_alerter_free(a, 1);
	ASSERT_EQ(l.n, 0);
	rx_stop(&x);
	logs_release(&l);
	return 0;
}

TEST_IMPL(alert_webhook_refused_connection_is_retried_then_failed)
{
	struct pp_alerter_stats st;
	struct pp_alerter_opts o;
	struct pp_alerter *a;
	struct pp_alert al = sample();
	struct logs l;
	char err[256], want[256], url[64];
	uint16_t port = test_closed_port();

	logs_init(&l);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/hook", port);
	o = test_opts(url, &l);
	o.webhook_attempts = 2;
	o.webhook_retry_delay = 0.05;
	ASSERT_EQ(pp_alerter_new(&o, &a, err, sizeof(err)), 0);
	ASSERT_EQ(pp_alerter_post(a, &al), 0);
	st = wait_idle(a, 5);
	ASSERT_UEQ(st.sent, 0);
	ASSERT_UEQ(st.failed, 1);
	pp_alerter_free(a, 1);
	ASSERT_EQ(l.n, 1);
	snprintf(want, sizeof(want),
		 "alert web/tcp:443 up->down: webhook http://127.0.0.1:%u: Couldn't connect to "
		 "server after 2 attempts; it is down: later alerts get one attempt each until one "
		 "is delivered",
		 port);
	ASSERT_STR_EQ(l.line[0], want);
	logs_release(&l);
	return 0;
}

TEST_IMPL(alert_webhook_silent_receiver_fails_at_the_timeout)
{
	static const int answers[] = {RX_SILENT};
	struct pp_alerter_stats st;
	struct pp_alerter_opts o;
	struct pp_alerter *a;
	struct pp_alert al = sample();
	struct logs l;
	struct rx x;
	char err[256], want[256];
	uint64_t t0;
	double took;

	logs_init(&l);
	ASSERT_EQ(rx_start(&x, answers, 1), 0);
	o = test_opts(x.url, &l);
	o.webhook_timeout = 0.5;
	o.webhook_attempts = 1;
	ASSERT_EQ(pp_alerter_new(&o, &a, err, sizeof(err)), 0);
	t0 = clock_now_ns();
	ASSERT_EQ(pp_alerter_post(a, &al), 0);
	st = wait_idle(a, 5);
	took = since_s(t0);
	ASSERT_UEQ(st.queued, 0);
	ASSERT_UEQ(st.sent, 0);
	ASSERT_UEQ(st.failed, 1);
	if (took < 0.5 || took > 1.5)
		TEST_FAIL_("failed after %.3f s, want 0.5 s and a little", took);
	ASSERT_EQ(rx_count(&x), 1);
	ASSERT_STR_EQ(rx_body(&x, 0), SAMPLE_JSON);
	pp_alerter_free(a, 1);
	ASSERT_EQ(l.n, 1);
	snprintf(want, sizeof(want),
		 "alert web/tcp:443 up->down: webhook http://127.0.0.1:%u: timed out (0.5 s) after "
		 "1 attempt",
		 x.port);
	ASSERT_STR_EQ(l.line[0], want);
	rx_stop(&x);
	logs_release(&l);
	return 0;
}

TEST_IMPL(alert_command_gets_the_change_in_its_environment)
{
	static const int answers[] = {200};
	struct pp_alerter_stats st;
	struct pp_alerter_opts o;
	struct pp_alerter *a;
	struct pp_alert al = sample();
	struct logs l;
	struct rx x;
	sigset_t term, old;
	char err[256], cmd[1024], path[192], got[8192], want[8192];
	const char *dir = tmp_get();
	int leak;

	ASSERT_TRUE(dir != NULL);
	logs_init(&l);
	ASSERT_EQ(rx_start(&x, answers, 1), 0);
	/* what serve does: SIGTERM blocked, read through a signalfd; a stale
	 * PORTPROBE_ variable and a descriptor without FD_CLOEXEC around */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, &old);
	setenv("PORTPROBE_STALE", "1", 1);
	setenv("PORTPROBE_UNIT", "stale", 1);
	setenv("PP_ALERT_TEST_INHERITED", "yes", 1);
	leak = open("/dev/null", O_RDONLY);
	ASSERT_TRUE(leak > 2);
	snprintf(path, sizeof(path), "%s/env", dir);
	/* the mask first, with builtins only: while dash waits for a child it
	 * blocks every signal itself */
	snprintf(
	    cmd, sizeof(cmd),
	    "f='%s'; while read -r k v; do test \"$k\" = SigBlk: && echo \"SigBlk=$v\"; "
	    "done < /proc/$$/status > \"$f\"; "
	    "env | grep -E '^(PORTPROBE_|PP_ALERT_TEST_)' | LC_ALL=C sort >> \"$f\"; "
	    "read x; echo \"stdin_eof=$?\" >> \"$f\"; "
	    "echo \"own_group=$(test \"$(cut -d' ' -f5 /proc/$$/stat)\" = \"$$\" && echo yes)\" "
	    ">> \"$f\"; "
	    "echo \"leaked_fd=$(test -e /proc/$$/fd/%d && echo yes || echo no)\" >> \"$f\"",
	    path, leak);
	o = test_opts(x.url, &l);
	o.command = cmd;
	ASSERT_EQ(pp_alerter_new(&o, &a, err, sizeof(err)), 0);
	ASSERT_EQ(pp_alerter_post(a, &al), 0);
	st = wait_idle(a, 5);
	close(leak);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	unsetenv("PORTPROBE_STALE");
	unsetenv("PORTPROBE_UNIT");
	unsetenv("PP_ALERT_TEST_INHERITED");
	ASSERT_UEQ(st.queued, 0);
	ASSERT_UEQ(st.sent, 2); /* the webhook and the command, once each */
	ASSERT_UEQ(st.failed, 0);
	ASSERT_EQ(rx_count(&x), 1);
	ASSERT_STR_EQ(rx_body(&x, 0), SAMPLE_JSON);
	snprintf(want, sizeof(want),
		 "SigBlk=0000000000000000\n"
		 "PORTPROBE_AT=2023-11-14T22:13:20.250Z\n"
		 "PORTPROBE_AT_MS=1700000000250\n"
		 "PORTPROBE_CHECK=web\n"
		 "PORTPROBE_EVENT=state_change\n"
		 "PORTPROBE_FROM=up\n"
		 "PORTPROBE_HOST=www.example.com\n"
		 "PORTPROBE_JSON=%s\n"
		 "PORTPROBE_LABEL_ENV=prod\n"
		 "PORTPROBE_LABEL_TEAM_NAME=web \"ops\"\n"
		 "PORTPROBE_PORT=443\n"
		 "PORTPROBE_PREVIOUS_STATE_SECONDS=3600.5\n"
		 "PORTPROBE_REASON=3 consecutive failures: Connection refused\n"
		 "PORTPROBE_STREAK=3\n"
		 "PORTPROBE_TO=down\n"
		 "PORTPROBE_UNIT=web/tcp:443\n"
		 "PP_ALERT_TEST_INHERITED=yes\n"
		 "stdin_eof=1\n"
		 "own_group=yes\n"
		 "leaked_fd=no\n",
		 SAMPLE_JSON);
	ASSERT_STR_EQ(slurp(path, got, sizeof(got)), want);
	pp_alerter_free(a, 1);
	ASSERT_EQ(l.n, 0);
	rx_stop(&x);
	logs_release(&l);
	return 0;
}

TEST_IMPL(alert_command_failure_is_logged_with_status_and_output)
{
	struct pp_alerter_stats st;
	struct pp_alerter_opts o;
	struct pp_alerter *a;
	struct pp_alert al = sample();
	struct logs l;
	char err[256];

	logs_init(&l);
	o = test_opts(NULL, &l);
	o.command = "echo; echo 'first line'; echo oops >&2; exit 3";
	ASSERT_EQ(pp_alerter_new(&o, &a, err, sizeof(err)), 0);
	ASSERT_EQ(pp_alerter_post(a, &al), 0);
	o.command = "kill -USR1 $$";
	st = wait_idle(a, 5);
	ASSERT_UEQ(st.sent, 0);
	ASSERT_UEQ(st.failed, 1);
	pp_alerter_free(a, 1);
	ASSERT_EQ(l.n, 1);
	ASSERT_EQ(l.level[0], PP_ALERT_LOG_ERR);
	ASSERT_STR_EQ(l.line[0], "alert web/tcp:443 up->down: command: exit status 3: first line");

	/* a signal, and no output */
	ASSERT_EQ(pp_alerter_new(&o, &a, err, sizeof(err)), 0);
	ASSERT_EQ(pp_alerter_post(a, &al), 0);
	st = wait_idle(a, 5);
	ASSERT_UEQ(st.failed, 1);
	pp_alerter_free(a, 1);
	ASSERT_EQ(l.n, 2);
	ASSERT_STR_EQ(l.line[1], "alert web/tcp:443 up->down: command: killed by signal 10");
	logs_release(&l);
	return 0;
}

TEST_IMPL(alert_command_outliving_its_timeout_is_killed_with_its_group)
{
	struct pp_alerter_stats st;
	struct pp_alerter_opts o;
	struct pp_alerter *a;
	struct pp_alert al = sample();
	struct logs l;
	char err[256], cmd[512], path[192], got[64], stat_path[64], stat[512];
	const char *dir = tmp_get();
	uint64_t t0;
	double took;
	long bg;
	bool gone = false;

	ASSERT_TRUE(dir != NULL);
	logs_init(&l);
	snprintf(path, sizeof(path), "%s/bg", dir);
	/* a background child in the same group, then the shell waits too */
	snprintf(cmd, sizeof(cmd), "sleep 30 & echo $! > '%s'; sleep 30", path);
	o = test_opts(NULL, &l);
	o.command = cmd;
	o.command_timeout = 0.3;
	ASSERT_EQ(pp_alerter_new(&o, &a, err, sizeof(err)), 0);
	t0 = clock_now_ns();
	ASSERT_EQ(pp_alerter_post(a, &al), 0);
	st = wait_idle(a, 5);
	took = since_s(t0);
	ASSERT_UEQ(st.sent, 0);
	ASSERT_UEQ(st.failed, 1);
	if (took < 0.3 || took > 1.3)
		TEST_FAIL_("killed after %.3f s, want 0.3 s and a little", took);
	pp_alerter_free(a, 1);
	ASSERT_EQ(l.n, 1);
	ASSERT_STR_EQ(l.line[0], "alert web/tcp:443 up->down: command: timed out (0.3 s), killed");

	/* the background sleep died with the group (gone, or a zombie until reaped) */
	bg = strtol(slurp(path, got, sizeof(got)), NULL, 10);
	ASSERT_TRUE(bg > 1);
	snprintf(stat_path, sizeof(stat_path), "/proc/%ld/stat", bg);
	for (int i = 0; i < 200 && !gone; i++) {
		const char *s = strrchr(slurp(stat_path, stat, sizeof(stat)), ')');

		gone = !s || s[2] == 'Z' || s[2] == 'X';
		if (!gone)
			sleep_ms(10);
	}
	ASSERT_TRUE(gone);
	logs_release(&l);
	return 0;
}

TEST_IMPL(alert_alerts_are_delivered_in_post_order)
{
	static const int answers[] = {200};
	struct pp_alerter_stats st;
	struct pp_alerter_opts o;
	struct pp_alerter *a;
	struct logs l;
	struct rx x;
	char err[256], unit[16], want[64];

	logs_init(&l);
	ASSERT_EQ(rx_start(&x, answers, 1), 0);
	o = test_opts(x.url, &l);
	ASSERT_EQ(pp_alerter_new(&o, &a, err, sizeof(err)), 0);
	for (unsigned i = 0; i < 20; i++) {
		struct pp_alert al = numbered(i, unit, sizeof(unit));

		ASSERT_EQ(pp_alerter_post(a, &al), 0);
	}
	st = wait_idle(a, 10);
	ASSERT_UEQ(st.queued, 0);
	ASSERT_UEQ(st.sent, 20);
	ASSERT_UEQ(st.failed, 0);
	ASSERT_EQ(rx_count(&x), 20);
	for (unsigned i = 0; i < 20; i++) {
		snprintf(want, sizeof(want), "\"unit\":\"u%02u\",", i);
		if (!strstr(rx_body(&x, i), want))
			TEST_FAIL_("request %u: %s not in %s", i, want, rx_body(&x, i));
	}
	pp_alerter_free(a, 1);
	ASSERT_EQ(l.n, 0);
	rx_stop(&x);
	logs_release(&l);
	return 0;
}

TEST_IMPL(alert_a_down_webhook_gets_one_attempt_per_alert_until_one_is_delivered)
{
	/* alert 0: 500 x 3, the webhook is down; alerts 1 and 2: one 500 each;
	 * alert 3: 200, retries are back; alert 4: 500 x 3 (the last answer
	 * repeats), down again */
	static const int answers[] = {500, 500, 500, 500, 500, 200, 500};
	static const char *const want_log[] = {
	    "u00|HTTP 500 after 3 attempts; it is down: later alerts get one attempt each until "
	    "one is delivered",
	    "u01|HTTP 500 after 1 attempt",
	    "u02|HTTP 500 after 1 attempt",
	    "u03|delivered again; alerts get 3 attempts again",
	    "u04|HTTP 500 after 3 attempts; it is down: later alerts get one attempt each until "
	    "one is delivered",
	};
	static const int want_level[] = {PP_ALERT_LOG_ERR, PP_ALERT_LOG_ERR, PP_ALERT_LOG_ERR,
					 PP_ALERT_LOG_WARNING, PP_ALERT_LOG_ERR};
	static const unsigned want_unit[] = {0, 0, 0, 1, 2, 3, 4, 4, 4};
	struct pp_alerter_stats st;
	struct pp_alerter_opts o;
	struct pp_alerter *a;
	struct logs l;
	struct rx x;
	char err[256], unit[16], want[256];

	logs_init(&l);
	ASSERT_EQ(rx_start(&x, answers, 7), 0);
	o = test_opts(x.url, &l);
	ASSERT_EQ(pp_alerter_new(&o, &a, err, sizeof(err)), 0);
	pp_alerter_stats(a, &st);
	ASSERT_TRUE(st.has_webhook && !st.webhook_down);
	for (unsigned i = 0; i < 5; i++) {
		struct pp_alert al = numbered(i, unit, sizeof(unit));

		ASSERT_EQ(pp_alerter_post(a, &al), 0);
	}
	st = wait_idle(a, 10);
	ASSERT_UEQ(st.queued, 0);
	ASSERT_UEQ(st.sent, 1);
	ASSERT_UEQ(st.failed, 4);
	ASSERT_TRUE(st.webhook_down);
	ASSERT_EQ(rx_count(&x), 9);
	for (unsigned i = 0; i < 9; i++) {
		snprintf(want, sizeof(want), "\"unit\":\"u%02u\",", want_unit[i]);
		if (!strstr(rx_body(&x, i), want))
			TEST_FAIL_("request %u: %s not in %s", i, want, rx_body(&x, i));
	}
	pp_alerter_free(a, 1);
	ASSERT_EQ(l.n, 5);
	for (size_t i = 0; i < 5; i++) {
		snprintf(want, sizeof(want), "alert %.3s up->down: webhook http://127.0.0.1:%u: %s",
			 want_log[i], x.port, want_log[i] + 4);
		ASSERT_STR_EQ(l.line[i], want);
		ASSERT_EQ(l.level[i], want_level[i]);
	}
	rx_stop(&x);
	logs_release(&l);
	return 0;
}

TEST_IMPL(alert_full_queue_drops_and_counts)
{
	static const int answers[] = {RX_SILENT, 200};
	struct pp_alerter_stats st;
	struct pp_alerter_opts o;
	struct pp_alerter *a;
	struct pp_alert al;
	struct logs l;
	struct rx x;
	char err[256], unit[16], want[256];

	logs_init(&l);
	ASSERT_EQ(rx_start(&x, answers, 2), 0);
	o = test_opts(x.url, &l);
	o.webhook_timeout = 0.5;
	o.webhook_attempts = 1;
	o.queue_max = 2;
	ASSERT_EQ(pp_alerter_new(&o, &a, err, sizeof(err)), 0);
	/* u01 keeps the worker busy on a receiver that never answers */
	al = numbered(1, unit, sizeof(unit));
	ASSERT_EQ(pp_alerter_post(a, &al), 0);
	ASSERT_EQ(rx_wait(&x, 1, 5), 1);
	al = numbered(2, unit, sizeof(unit));
	ASSERT_EQ(pp_alerter_post(a, &al), 0);
	al = numbered(3, unit, sizeof(unit));
	ASSERT_EQ(pp_alerter_post(a, &al), 0);
	al = numbered(4, unit, sizeof(unit));
	ASSERT_EQ(pp_alerter_post(a, &al), -ENOSPC);
	pp_alerter_stats(a, &st);
	ASSERT_UEQ(st.queued, 3);
	ASSERT_UEQ(st.dropped, 1);
	ASSERT_UEQ(st.sent, 0);
	ASSERT_UEQ(st.failed, 0);
	st = wait_idle(a, 5);
	ASSERT_UEQ(st.queued, 0);
	ASSERT_UEQ(st.sent, 2);
	ASSERT_UEQ(st.failed, 1);
	ASSERT_UEQ(st.dropped, 1);
	ASSERT_EQ(rx_count(&x), 3);
	ASSERT_TRUE(strstr(rx_body(&x, 1), "\"unit\":\"u02\","));
	ASSERT_TRUE(strstr(rx_body(&x, 2), "\"unit\":\"u03\","));
	pp_alerter_free(a, 1);
	ASSERT_EQ(l.n, 2);
	snprintf(
	    want, sizeof(want),
	    "alert u01 up->down: webhook http://127.0.0.1:%u: timed out (0.5 s) after 1 attempt",
	    x.port);
	ASSERT_STR_EQ(l.line[0], want);
	ASSERT_STR_EQ(l.line[1], "alerts: queue full, 1 alert dropped");
	ASSERT_EQ(l.level[1], PP_ALERT_LOG_WARNING);
	rx_stop(&x);
	logs_release(&l);
	return 0;
}

TEST_IMPL(alert_free_drains_the_queue)
{
	static const int answers[] = {200};
	struct pp_alerter_opts o;
	struct pp_alerter *a;
	struct logs l;
	struct rx x;
	char err[256], unit[16], want[64];

	logs_init(&l);
	ASSERT_EQ(rx_start(&x, answers, 1), 0);
	o = test_opts(x.url, &l);
	ASSERT_EQ(pp_alerter_new(&o, &a, err, sizeof(err)), 0);
	for (unsigned i = 0; i < 5; i++) {
		struct pp_alert al = numbered(i, unit, sizeof(unit));

		ASSERT_EQ(pp_alerter_post(a, &al), 0);
	}
	pp_alerter_free(a, 10);
	ASSERT_EQ(rx_count(&x), 5);
	for (unsigned i = 0; i < 5; i++) {
		snprintf(want, sizeof(want), "\"unit\":\"u%02u\",", i);
		ASSERT_TRUE(strstr(rx_body(&x, i), want));
	}
	ASSERT_EQ(l.n, 0);
	rx_stop(&x);
	logs_release(&l);
	return 0;
}

TEST_IMPL(alert_free_stops_at_the_drain_deadline)
{
	static const int answers[] = {RX_SILENT};
	struct pp_alerter_opts o;
	struct pp_alerter *a;
	struct logs l;
	struct rx x;
	char err[256], unit[16], want[256];
	uint64_t t0;
	double took;

	logs_init(&l);
	ASSERT_EQ(rx_start(&x, answers, 1), 0);
	o = test_opts(x.url, &l);
	o.webhook_timeout = 10;
	ASSERT_EQ(pp_alerter_new(&o, &a, err, sizeof(err)), 0);
	for (unsigned i = 1; i <= 3; i++) {
		struct pp_alert al = numbered(i, unit, sizeof(unit));

		ASSERT_EQ(pp_alerter_post(a, &al), 0);
	}
	ASSERT_EQ(rx_wait(&x, 1, 5), 1);
	t0 = clock_now_ns();
	pp_alerter_free(a, 0.3);
	took = since_s(t0);
	if (took < 0.25 || took > 1.3)
		TEST_FAIL_("stopped after %.3f s, want 0.3 s and a little", took);
	ASSERT_EQ(rx_count(&x), 1);
	ASSERT_EQ(l.n, 2);
	snprintf(want, sizeof(want),
		 "alert u01 up->down: webhook http://127.0.0.1:%u: abandoned at shutdown after 1 "
		 "attempt",
		 x.port);
	ASSERT_STR_EQ(l.line[0], want);
	ASSERT_STR_EQ(l.line[1], "alerts: 2 alerts undelivered at shutdown");
	rx_stop(&x);
	logs_release(&l);
	return 0;
}
