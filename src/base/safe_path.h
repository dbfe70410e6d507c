/*
 * base/safe_path.h - whether root may act on a path that others could
 * redirect.
 */
#ifndef ZKEEP_SAFE_PATH_H
#define ZKEEP_SAFE_PATH_H

#include "base/zkeep.h"
#include "base/strbuf.h"
#include "base/strvec.h"

/*
 * Whether absolute path leads, component by component from /, only
 * through real directories (never a symbolic link) that root owns and
 * that nobody else can rename or replace: each directory before the last
 * is not writable by group or others unless it is sticky (then others
 * cannot move root's entries). Walked with O_PATH|O_NOFOLLOW dirfds, never
 * by resolving the string. Components that do not exist yet are allowed
 * when the last existing directory is writable by root alone (root
 * creates them, nobody else can). "." and ".." are refused. 0, or -EPERM
 * (-ENOTDIR, -ELOOP: see why) with the reason in why: the component and
 * what is wrong with it.
 */
int path_root_only(const char *path, struct strbuf *why);

/*
 * Whether absolute path is dir itself or lies below it, compared by whole
 * components ("/a/bc" is not below "/a/b"; repeated and trailing slashes
 * count as one; "/" holds every absolute path). A path with a "." or ".."
 * component is never within anything.
 */
bool path_within(const char *path, const char *dir);

/*
 * The entry names of the directory dfd (without "." and ".."), sorted
 * bytewise, appended to out. dfd stays open and its position is not used.
 * 0 or -errno.
 */
int dir_names_at(int dfd, struct strvec *out);

/*
 * Remove the entry name of the directory at and, if it is a directory
 * (never followed through a symbolic link), everything in it: unlinkat()
 * relative to dirfds opened O_NOFOLLOW, never a rebuilt path. depth bounds
 * the recursion. 0 (also when name does not exist) or the first -errno.
 */
int remove_tree_at(int at, const char *name, unsigned depth);

#endif
