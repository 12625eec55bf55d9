/*
 * privs.c - giving up root once the listeners are open (--user).
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
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
