/* runner.c - the runner interface and the local runner (see runner.h). */
#include "zfs/runner.h"
#include "zfs/root_request.h"

struct local_runner {
	struct runner base;
	struct strvec env;
	int root_channel; /* > 2: zfs receive is root's to run (root_receive.h) */
};

/* `zfs receive` into a dataset (not -A, which destroys a partial state). */
static bool is_receive(const char *const *argv)
{
	if (!argv[0] || !streq(argv[0], "zfs") || !argv[1] || !streq(argv[1], "receive"))
		return false;
	for (size_t i = 2; argv[i]; i++)
		if (streq(argv[i], "-A"))
			return false;
	return true;
}

static int local_start(struct runner *r, const char *const *argv, int in, int out, int err,
		       struct child *c)
{
	struct local_runner *l = (struct local_runner *)r;
	if (l->root_channel > 2 && is_receive(argv))
		return root_recv_start(l->root_channel, argv, in, out, err, c);
	struct spawn_req req = {
		.argv = argv,
		.env = (const char *const *)l->env.v,
		.in = in,
		.out = out,
		.err = err,
	};
	return spawn_start(&req, c);
}

static void local_free(struct runner *r)
{
	struct local_runner *l = (struct local_runner *)r;
	strvec_release(&l->env);
}

static const struct runner_ops local_ops = { .start = local_start, .free = local_free };

struct runner *runner_local_new(void)
{
	struct local_runner *l = xcalloc(1, sizeof(*l));
	l->base.ops = &local_ops;
	l->base.label = xstrdup("local");
	strvec_init(&l->env);
	spawn_env_default(&l->env);
	return &l->base;
}

bool runner_is_local(const struct runner *r)
{
	return r && r->ops == &local_ops;
}

void runner_local_receive_via_root(struct runner *r, int channel)
{
	if (runner_is_local(r))
		((struct local_runner *)r)->root_channel = channel;
}

void runner_free(struct runner *r)
{
	if (!r)
		return;
	if (r->ops->free)
		r->ops->free(r);
	free(r->label);
	free(r);
}

int runner_start(struct runner *r, const char *const *argv, int in, int out, int err,
		 struct child *c)
{
	if (r->trace)
		r->trace(r, argv, r->trace_data);
	int ret = r->ops->start(r, argv, in, out, err, c);
	if (ret == 0)
		r->spawned++;
	return ret;
}

int runner_run(struct runner *r, const char *const *argv, const void *input, size_t input_len,
	       struct strbuf *out, struct strbuf *err, int *exit_code)
{
	struct child c;
	int ret = runner_start(r, argv, input ? SPAWN_PIPE : SPAWN_NULL, out ? SPAWN_PIPE : SPAWN_NULL,
			       err ? SPAWN_PIPE : SPAWN_NULL, &c);
	if (ret < 0)
		return ret;
	return spawn_communicate(&c, input, input_len, out, err, exit_code);
}
