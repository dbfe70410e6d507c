/* drive_runner.c - see drive_runner.h. */
#include "base/zkeep.h"
#include "drive/drive_runner.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/pidfd.h>

struct tracked {
	pid_t pid;
	int pidfd; /* -1 when pidfd_open is not available: then the pid is signalled */
	bool spared;
};

struct drive_runner {
	struct runner base;
	struct strvec env;
	pthread_mutex_t mu;
	bool stopped;
	struct tracked kids[DRIVE_RUNNER_MAX_CHILDREN];
	size_t nkids;
};

/* Variables of zpool(8) that say where and how long `zpool import` looks for devices. */
static const char *const pass_env[] = { "ZPOOL_IMPORT_PATH", "ZPOOL_IMPORT_UDEV_TIMEOUT_MS" };

bool drive_runner_spared(const char *const *argv)
{
	return argv[0] && argv[1] && streq(argv[0], "zpool") &&
	       (streq(argv[1], "import") || streq(argv[1], "export"));
}

bool drive_runner_allowed_after_stop(const char *const *argv)
{
	return argv[0] && streq(argv[0], "zpool");
}

/* Forget the children that have exited (their pidfd is readable). Called with mu held. */
static void prune(struct drive_runner *d)
{
	size_t k = 0;
	for (size_t i = 0; i < d->nkids; i++) {
		struct tracked *t = &d->kids[i];
		if (t->pidfd >= 0) {
			struct pollfd pf = { .fd = t->pidfd, .events = POLLIN };
			if (poll(&pf, 1, 0) == 1) {
				close(t->pidfd);
				continue;
			}
		} else if (kill(t->pid, 0) < 0 && errno == ESRCH) {
			continue;
		}
		d->kids[k++] = *t;
	}
	d->nkids = k;
}

static int drive_start(struct runner *r, const char *const *argv, int in, int out, int err,
		       struct child *c)
{
	struct drive_runner *d = (struct drive_runner *)r;
	struct spawn_req req = {
		.argv = argv,
		.env = (const char *const *)d->env.v,
		.in = in,
		.out = out,
		.err = err,
	};
	int ret;
	pthread_mutex_lock(&d->mu);
	prune(d);
	if (d->stopped && !drive_runner_allowed_after_stop(argv)) {
		ret = -ECANCELED;
	} else if (d->nkids >= DRIVE_RUNNER_MAX_CHILDREN) {
		ret = -EAGAIN;
	} else {
		ret = spawn_start(&req, c);
		if (ret == 0) {
			struct tracked *t = &d->kids[d->nkids++];
			t->pid = c->pid;
			t->pidfd = pidfd_open(c->pid, 0);
			t->spared = drive_runner_spared(argv);
		}
	}
	pthread_mutex_unlock(&d->mu);
	return ret;
}

unsigned drive_runner_stop(struct runner *r)
{
	struct drive_runner *d = (struct drive_runner *)r;
	unsigned n = 0;
	pthread_mutex_lock(&d->mu);
	d->stopped = true;
	prune(d);
	for (size_t i = 0; i < d->nkids; i++) {
		struct tracked *t = &d->kids[i];
		if (t->spared)
			continue;
		int k = t->pidfd >= 0 ? pidfd_send_signal(t->pidfd, SIGTERM, NULL, 0)
				      : kill(t->pid, SIGTERM);
		if (k == 0)
			n++;
	}
	pthread_mutex_unlock(&d->mu);
	return n;
}

bool drive_runner_stopped(struct runner *r)
{
	struct drive_runner *d = (struct drive_runner *)r;
	pthread_mutex_lock(&d->mu);
	bool s = d->stopped;
	pthread_mutex_unlock(&d->mu);
	return s;
}

static void drive_free(struct runner *r)
{
	struct drive_runner *d = (struct drive_runner *)r;
	for (size_t i = 0; i < d->nkids; i++)
		if (d->kids[i].pidfd >= 0)
			close(d->kids[i].pidfd);
	strvec_release(&d->env);
	pthread_mutex_destroy(&d->mu);
}

static const struct runner_ops drive_ops = { .start = drive_start, .free = drive_free };

struct runner *drive_runner_new(void)
{
	struct drive_runner *d = xcalloc(1, sizeof(*d));
	d->base.ops = &drive_ops;
	d->base.label = xstrdup("local");
	pthread_mutex_init(&d->mu, NULL);
	strvec_init(&d->env);
	spawn_env_default(&d->env);
	for (size_t i = 0; i < ARRAY_SIZE(pass_env); i++) {
		const char *v = getenv(pass_env[i]);
		if (v)
			strvec_pushf(&d->env, "%s=%s", pass_env[i], v);
	}
	return &d->base;
}
