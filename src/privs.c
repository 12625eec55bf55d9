/*
 * privs.c - giving up root once the listeners are open (--user), and
 * whose the Unix-domain socket files are (--unix-owner).
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "msgd.h"

/* Fail early, before anything is bound, if the user does not exist. */
void
privs_check_user(const char *user)
{
	errno = 0;
	if (getpwnam(user) == NULL) {
		if (errno != 0)
			fatal(EX_OSERR, "cannot look up user '%s'", user);
		fatalx(EX_NOUSER, "unknown user '%s'", user);
	}
	if (geteuid() != 0)
		fatalx(EX_NOPERM, "--user %s needs msgd to be started as root",
		    user);
}

/*
 * Become the user, with its primary group and no supplementary groups,
 * and make sure there is no way back to root.
 */
void
privs_drop(const char *user)
{
	struct passwd	*pw;

	if ((pw = getpwnam(user)) == NULL)
		fatalx(EX_NOUSER, "unknown user '%s'", user);
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		fatal(EX_OSERR, "cannot drop privileges to %s", user);
	if (pw->pw_uid != 0 && (setuid(0) != -1 || seteuid(0) != -1))
		fatalx(EX_SOFTWARE, "dropped privileges could be regained");
	log_debug("running as %s (uid %ld, gid %ld)", user, (long)pw->pw_uid,
	    (long)pw->pw_gid);
}

/*
 * Who owns the Unix-domain sockets msgd binds: --unix-owner's USER[:GROUP]
 * (chown(1)'s meaning: a USER alone keeps the group, :GROUP keeps the
 * user), else --user's user and group when msgd starts as root -- so that
 * the user it becomes and its group can connect, and it can remove the
 * file from a sticky directory at exit -- else no change (-1).
 */
void
privs_owner(const char *owner, const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd	*pw;
	struct group	*gr;
	const char	*colon;
	char		 name[256];
	size_t		 len;

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (owner == NULL) {
		if (user == NULL || geteuid() != 0)
			return;
		if ((pw = getpwnam(user)) == NULL)
			fatalx(EX_NOUSER, "unknown user '%s'", user);
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
		return;
	}
	colon = strchr(owner, ':');
	len = colon != NULL ? (size_t)(colon - owner) : strlen(owner);
	if (len >= sizeof(name))
		fatalx(EX_NOUSER, "unknown user in --unix-owner '%s'", owner);
	memcpy(name, owner, len);
	name[len] = '\0';
	if (len > 0) {
		if ((pw = getpwnam(name)) == NULL)
			fatalx(EX_NOUSER, "unknown user '%s' in --unix-owner",
			    name);
		*uid = pw->pw_uid;
	}
	if (colon != NULL && colon[1] != '\0') {
		if ((gr = getgrnam(colon + 1)) == NULL)
			fatalx(EX_NOUSER, "unknown group '%s' in --unix-owner",
			    colon + 1);
		*gid = gr->gr_gid;
	}
}
