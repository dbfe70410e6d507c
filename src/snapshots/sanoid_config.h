/*
 * snapshots/sanoid_config.h - sanoid.conf and sanoid.defaults.conf, and the effective
 * snapshot policy of every dataset.
 *
 * Two steps, as sanoid does it:
 *
 *  1. sanoid_config_parse() reads the two INI texts as sanoid does (with
 *     Config::IniFiles' rules, see sanoid_ini.h). The defaults file's
 *     [template_default] is the list of allowed keys and their shipped
 *     values; a key of the user file that is not in it is fatal, as for
 *     sanoid: "sanoid.conf:12: [tank/home] hourlz: unknown setting". A key
 *     given twice keeps its first value, with sanoid's warning; a
 *     use_template name with no [template_NAME] is ignored, with a warning.
 *     sanoid_config_load() does the same from a config directory:
 *     DIR/sanoid.conf, and DIR/sanoid.defaults.conf when it exists, else the
 *     copy of data/sanoid.defaults.conf embedded in the binary.
 *
 *  2. sanoid_config_resolve() is pure: given the names of the datasets that
 *     exist (recursive expansion needs them), it computes one policy per
 *     dataset. Order of precedence, lowest first: shipped defaults, the user's
 *     [template_default], each template of use_template in order, the
 *     section's own keys. A child of a section with recursive = yes|zfs
 *     inherits the parent's effective values (recursive = zfs: with autosnap
 *     off, the parent's `zfs snapshot -r` covers it); when the child has its
 *     own section, that section's templates and keys apply on top, whatever
 *     the order of the sections in the file (sanoid follows file order, so a
 *     child section written before its parent is overwritten there; zkeep
 *     always lets the more specific section win). skip_children drops the
 *     children; process_children_only keeps the parent out of taking,
 *     pruning and monitoring. A section whose dataset does not exist, or
 *     that has a value sanoid 2.3.0 would misread (in the section, in a
 *     template it uses, in [template_default]) stops nothing else: its policy
 *     is marked missing or refused and the other sections run.
 *
 * Ownership: a struct sanoid_config owns everything it points to and is
 * released with sanoid_config_release(); the same for struct sanoid_policies.
 */
#ifndef ZKEEP_SANOID_CONFIG_H
#define ZKEEP_SANOID_CONFIG_H

#include "base/zkeep.h"
#include "base/strbuf.h"
#include "base/strvec.h"

/* Snapshot types in the order sanoid takes them (and names them in hooks). */
enum snap_type {
	SNAP_YEARLY = 0,
	SNAP_MONTHLY,
	SNAP_WEEKLY,
	SNAP_DAILY,
	SNAP_HOURLY,
	SNAP_FREQUENTLY,
	SNAP_NTYPES,
};

enum sanoid_recursive {
	RECURSIVE_NO = 0,
	RECURSIVE_YES,  /* a snapshot per child, each with its own policy */
	RECURSIVE_ZFS,  /* one atomic `zfs snapshot -r` */
};

/* The text of data/sanoid.defaults.conf, compiled in. */
extern const char sanoid_defaults_conf[];

/* One key = value of a section: its first value (sanoid uses that one). */
struct sanoid_kv {
	char *key;
	char *value;   /* trimmed, as sanoid trims it */
	char *raw;     /* as written; what sanoid uses from a template that comes later in
			* the file than the section using it (it trims sections in file order) */
	unsigned line; /* of the first "key =" */
};

struct sanoid_section {
	char *name;
	unsigned line; /* of the [header] */
	struct sanoid_kv *kv;
	size_t nkv;
};

struct sanoid_config {
	char *file;          /* path of sanoid.conf, for messages */
	char *defaults_file; /* path of the defaults, or "(built-in sanoid.defaults.conf)" */
	struct sanoid_section defaults; /* [template_default] of the defaults file */
	struct sanoid_section *sections; /* of sanoid.conf, in file order */
	size_t nsections;
	/* What sanoid warns about (a duplicate key, in its words) or ignores (a
	 * use_template naming no template): sanoid_config_resolve() hands them on. */
	struct strvec warnings;
};
#define SANOID_CONFIG_INIT { 0 }

/*
 * Parse the two texts. file_name/defaults_name are used in messages. On
 * error returns -EINVAL with the message in err (cfg is released then).
 */
int sanoid_config_parse(struct sanoid_config *cfg, const char *conf, size_t conf_len,
			const char *file_name, const char *defaults, size_t defaults_len,
			const char *defaults_name, struct strbuf *err);

/*
 * Read DIR/sanoid.conf and the defaults (see the header comment). -ENOENT
 * when sanoid.conf is missing, -EINVAL for a bad config, other -errno for
 * read errors; the message is in err.
 */
int sanoid_config_load(struct sanoid_config *cfg, const char *dir, struct strbuf *err);
void sanoid_config_release(struct sanoid_config *cfg);

/*
 * The dataset (path) of every non-template section, deduplicated, in file
 * order: the roots to list.
 */
void sanoid_config_roots(const struct sanoid_config *cfg, struct strvec *roots);

struct sanoid_policy {
	char *path;     /* the dataset */
	char *section;  /* the section it comes from (its own or its parent's) */
	unsigned line;  /* line of that section's header */
	bool own_section;          /* the dataset has a section of its own */
	bool missing;              /* its section names a dataset that does not exist */
	bool refused;              /* a value sanoid would misread: nothing is done for it
				    * (autosnap and autoprune are off, monitors say CRIT) */
	enum sanoid_recursive recursive; /* as the dataset's own section says */
	bool zfs_recursion;        /* under (or root of) a recursive = zfs section */
	bool autosnap, autoprune, monitor, monitor_dont_warn, monitor_dont_crit;
	bool process_children_only, skip_children;
	bool no_inconsistent_snapshot, force_post_snapshot_script;
	unsigned count[SNAP_NTYPES];   /* hourly = 48 ... */
	unsigned frequent_period;      /* minutes */
	unsigned hourly_min, daily_hour, daily_min;
	unsigned weekly_wday, weekly_hour, weekly_min;
	unsigned monthly_mday, monthly_hour, monthly_min;
	unsigned yearly_mon, yearly_mday, yearly_hour, yearly_min;
	unsigned prune_defer, capacity_warn, capacity_crit;
	unsigned script_timeout;       /* seconds; 0 = none */
	uint64_t warn[SNAP_NTYPES], crit[SNAP_NTYPES]; /* seconds; 0 = not monitored */
	/* Hook commands; NULL when unset. */
	char *pre_snapshot_script, *post_snapshot_script;
	char *pre_pruning_script, *pruning_script;
};

struct sanoid_policies {
	struct sanoid_policy *p;
	size_t n;
	/* One message per section that could not be applied ("FILE:LINE: [SECTION]:
	 * dataset 'X' does not exist ...", "FILE:LINE: [SECTION] KEY: 'abc' is not
	 * a whole number ... (sanoid 2.3.0 would read it as 0)"): its policy is
	 * there, marked missing or refused, and nothing is done for it; the other
	 * sections are unaffected. */
	struct strvec problems;
};

/*
 * Compute the policy of every dataset. `datasets` are the names of all
 * filesystems and volumes that exist under the configured roots (at least),
 * parents before children as `zfs list` prints them. Warnings (keys sanoid
 * ignores, like recursive in a template) are appended to `warnings` (may be
 * NULL), after those of cfg->warnings. A section whose dataset does not exist
 * (a pool not imported, a USB drive not plugged in) stops nothing: its policy
 * is marked missing and out->problems says so, as sanoid goes on with the
 * others. The same for a section with a value sanoid would misread (marked
 * refused), and for the children it passes its settings to. Always 0.
 */
int sanoid_config_resolve(const struct sanoid_config *cfg, const char *const *datasets,
			  size_t ndatasets, struct sanoid_policies *out,
			  struct strvec *warnings);
void sanoid_policies_release(struct sanoid_policies *p);
const struct sanoid_policy *sanoid_policies_find(const struct sanoid_policies *p,
						 const char *path);

/* "hourly" ... ; snap_type_from_name() returns -1 for an unknown name. */
extern const char *const snap_type_names[SNAP_NTYPES];
int snap_type_from_name(const char *name, size_t len);

#endif
