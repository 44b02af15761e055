/*
 * daemon/sandbox_linux.c -- giving up root after startup, on Linux.
 *
 * The one place that changes credentials (STYLE.md rule 36).  Started as
 * root with `user` configured, eidd binds its sockets, opens the store
 * and loads its keys as root, then hands the store's files to the user,
 * drops every group and id for good (setgroups, setresgid, setresuid),
 * checks that root cannot be regained, and sets no_new_privs.  Any
 * failure is fatal: eidd never runs half-dropped.  The systemd unit's
 * hardening adds to this and does not replace it.
 */
#define _GNU_SOURCE	/* setresuid, setresgid, setgroups */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eidd.h"

/* Give a directory and the files directly in it to uid:gid. */
static void
sandbox_chown_dir(const char *dir, uid_t uid, gid_t gid)
{
	struct dirent	*e;
	DIR		*d;
	char		 path[4096];

	if (chown(dir, uid, gid) != 0)
		fatalx("sandbox", "path=%s error=\"chown: %s\"", dir,
		    strerror(errno));
	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR)
			sandbox_chown_dir(path, uid, gid);
		else if (lchown(path, uid, gid) != 0)
			fatalx("sandbox", "path=%s error=\"chown: %s\"", path,
			    strerror(errno));
	}
	closedir(d);
}

void
sandbox_drop(const struct cfg *c)
{
	struct passwd	*pw;
	uid_t		 uid;
	gid_t		 gid;

	if (c->user[0] == '\0') {
		if (geteuid() == 0)
			log_warnx("running_as_root", "note=\"set user to drop "
			    "root after startup\"");
		return;
	}
	if (geteuid() != 0) {
		log_info("user", "note=\"not root: user %s not needed\"",
		    c->user);
		return;
	}
	if ((pw = getpwnam(c->user)) == NULL)
		fatalx("sandbox", "user=%s error=\"no such user\"", c->user);
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (uid == 0)
		fatalx("sandbox", "user=%s error=\"is root\"", c->user);
	/* The store's files were made by root: the user keeps using them. */
	sandbox_chown_dir(c->state_dir, uid, gid);
	if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0)
		fatalx("sandbox", "user=%s error=\"%s\"", c->user,
		    strerror(errno));
	/* Root must be gone for good. */
	if (setuid(0) == 0 || seteuid(0) == 0 || getuid() != uid ||
	    geteuid() != uid || getegid() != gid)
		fatalx("sandbox", "user=%s error=\"root could be regained\"",
		    c->user);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		fatalx("sandbox", "error=\"no_new_privs: %s\"", strerror(errno));
	log_info("dropped", "user=%s uid=%u gid=%u", c->user, (unsigned)uid,
	    (unsigned)gid);
}
