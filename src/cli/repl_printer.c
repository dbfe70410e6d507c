/* cli/repl_printer.c - see repl_printer.h. */
#include "base/zkeep.h"
#include "cli/repl_printer.h"
#include "base/log.h"
#include "base/parse.h"
#include "base/json_out.h"
#include "base/term.h"
#include "replication/pump.h"

#include <jansson.h>


static const char *const ev_names[] = {
	[REPL_EV_INFO] = "info",	 [REPL_EV_WARNING] = "warning",
	[REPL_EV_ERROR] = "error",	 [REPL_EV_PLAN] = "plan",
	[REPL_EV_SEND_START] = "send",	 [REPL_EV_PROGRESS] = "progress",
	[REPL_EV_SEND_DONE] = "sent",	 [REPL_EV_DEBUG] = "debug",
	[REPL_EV_STEP] = "info",
};

void repl_printer_init(struct repl_printer *p, bool json, enum log_level level)
{
	memset(p, 0, sizeof(*p));
	p->json = json;
	p->indent = "";
	p->level = level;
	const char *term = getenv("TERM");
	p->bar = !json && term_stderr_tty() && !(term && streq(term, "dumb")) &&
		 log_enabled(LOG_LVL_NOTICE);
	p->line_interval = 10;
	p->syncoid = !json && log_get_style() == LOG_STYLE_SYNCOID;
	const char *iv = getenv("ZKEEP_PROGRESS_INTERVAL");
	unsigned secs;
	if (iv && *iv && parse_uint_range(iv, 0, 86400, &secs) == 0)
		p->line_interval = secs;
}

static void json_event(const struct repl_printer *p, const struct replicate_event *ev)
{
	if (ev->kind == REPL_EV_DEBUG && !log_enabled(LOG_LVL_DEBUG))
		return;
	json_t *o = json_object();
	json_object_set_new(o, "event", json_string(ev_names[ev->kind]));
	if (p->step)
		json_object_set_new(o, "step", json_str(p->step));
	if (ev->source)
		json_object_set_new(o, "source", json_str(ev->source));
	if (ev->target)
		json_object_set_new(o, "target", json_str(ev->target));
	if (ev->kind == REPL_EV_SEND_START || ev->kind == REPL_EV_PROGRESS ||
	    ev->kind == REPL_EV_SEND_DONE) {
		json_object_set_new(o, "from", json_str(ev->from));
		json_object_set_new(o, "to", json_str(ev->to));
		json_object_set_new(o, "bytes", json_integer((json_int_t)ev->bytes));
		json_object_set_new(o, "expected_bytes", json_integer((json_int_t)ev->expected_bytes));
	}
	if (ev->kind == REPL_EV_PROGRESS || ev->kind == REPL_EV_SEND_DONE) {
		json_object_set_new(o, "rate", json_real(ev->rate));
		json_object_set_new(o, "seconds", json_real(ev->seconds));
		if (ev->kind == REPL_EV_PROGRESS)
			json_object_set_new(o, "eta", ev->eta >= 0 ? json_real(ev->eta) : json_null());
	}
	if (ev->message)
		json_object_set_new(o, "message", json_str(ev->message));
	json_emit_line(stdout, o);
}

static void pump_view(const struct replicate_event *ev, bool done, struct pump_progress *pp)
{
	*pp = (struct pump_progress){
		.stream_bytes = ev->bytes,
		.expected_bytes = ev->expected_bytes,
		.elapsed = ev->seconds,
		.rate = ev->rate,
		.eta = ev->eta,
		.done = done,
	};
}

static unsigned term_width(void)
{
	unsigned cols = term_stderr_cols();
	return cols >= 20 ? cols : 80;
}

static void draw_bar(struct repl_printer *p, const struct replicate_event *ev, bool done)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	struct pump_progress pp;
	pump_view(ev, done, &pp);
	size_t ind = strlen(p->indent);
	unsigned w = term_width() - 1; /* never the last column: no wrap */
	strbuf_addstr(&sb, p->indent);
	pump_progress_format(&pp, PUMP_SHOW_BAR, w > ind ? w - (unsigned)ind : 0, &sb);
	fprintf(stderr, "\r%s\033[K%s", sb.buf, done ? "\n" : "");
	fflush(stderr);
	p->bar_drawn = !done;
}

bool repl_printer_watched(const struct repl_printer *p)
{
	/* syncoid's INFO lines carry the estimate */
	return p->json || p->bar || log_enabled(p->level) ||
	       (p->syncoid && log_enabled(LOG_LVL_NOTICE));
}

void repl_printer_done(struct repl_printer *p)
{
	if (p->bar_drawn) {
		fputc('\n', stderr);
		fflush(stderr);
		p->bar_drawn = false;
	}
}

/* syncoid's own lines for ev, if it has any: printed, and true. */
static bool syncoid_event(const struct repl_printer *p, const struct replicate_event *ev)
{
	_cleanup_release_(syncoid_lines) struct syncoid_lines l;
	syncoid_lines_init(&l);
	if (!syncoid_event_lines(&p->run, ev, &l))
		return false;
	for (size_t i = 0; i < l.n; i++) {
		if (l.level[i] == SYNCOID_RAW) {
			fprintf(stderr, "%s\n", l.text[i].buf);
			fflush(stderr);
		} else {
			log_tool((enum log_level)l.level[i], "%s", l.text[i].buf);
		}
	}
	return true;
}

void repl_printer_event(struct repl_printer *p, const struct replicate_event *ev)
{
	if (p->json) {
		json_event(p, ev);
		return;
	}
	if (p->bar_drawn && ev->kind != REPL_EV_PROGRESS && ev->kind != REPL_EV_SEND_DONE &&
	    (ev->kind != REPL_EV_DEBUG || log_enabled(LOG_LVL_DEBUG))) {
		fputs("\r\033[K", stderr); /* wipe the bar; the next tick redraws it */
		p->bar_drawn = false;
	}
	if (p->syncoid && syncoid_event(p, ev))
		return;
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	struct pump_progress pp;
	switch (ev->kind) {
	case REPL_EV_INFO:
	case REPL_EV_STEP:
		log_notice("%s%s", p->indent, ev->message);
		break;
	case REPL_EV_WARNING:
		log_warning("%s", ev->message);
		break;
	case REPL_EV_ERROR:
		log_error("%s", ev->message);
		break;
	case REPL_EV_DEBUG:
		log_debug("%s", ev->message);
		break;
	case REPL_EV_PLAN:
		fputs(ev->message, stdout);
		fflush(stdout);
		break;
	case REPL_EV_SEND_START:
		p->last_line = 0;
		if (ev->expected_bytes && log_enabled(p->level)) {
			pump_human_bytes(&sb, (double)ev->expected_bytes);
			log_msg(p->level, "%sabout %s to send", p->indent, sb.buf);
		}
		break;
	case REPL_EV_PROGRESS:
		if (p->bar) {
			draw_bar(p, ev, false);
		} else if (p->line_interval > 0 && log_enabled(p->level) &&
			   ev->seconds - p->last_line >= p->line_interval) {
			p->last_line = ev->seconds;
			pump_view(ev, false, &pp);
			pump_progress_format(&pp, PUMP_SHOW_LINE, 0, &sb);
			log_msg(p->level, "%s%s", p->indent, sb.buf);
		}
		break;
	case REPL_EV_SEND_DONE:
		if (p->bar_drawn) {
			draw_bar(p, ev, true);
		} else if (log_enabled(p->level)) {
			pump_view(ev, true, &pp);
			pp.expected_bytes = 0; /* the totals, not how far off the estimate was */
			pump_progress_format(&pp, PUMP_SHOW_LINE, 0, &sb);
			log_msg(p->level, "%ssent %s", p->indent, sb.buf + strlen("done: "));
		}
		break;
	}
}
