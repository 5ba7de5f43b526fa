dnl segue_libev.m4: find libev; Debian ships no pkg-config file for it.
dnl SPDX-License-Identifier: MIT
dnl SEGUE_CHECK_LIBEV: sets LIBEV_CFLAGS and LIBEV_LIBS.
AC_DEFUN([SEGUE_CHECK_LIBEV], [
  PKG_CHECK_MODULES([LIBEV], [libev], [], [
    AC_CHECK_HEADER([ev.h], [],
      [AC_MSG_ERROR([libev headers not found: install libev-dev])])
    segue_save_LIBS=$LIBS
    AC_SEARCH_LIBS([ev_run], [ev], [],
      [AC_MSG_ERROR([libev not found: install libev-dev])])
    AS_IF([test "x$ac_cv_search_ev_run" != "xnone required"],
      [LIBEV_LIBS=$ac_cv_search_ev_run])
    LIBS=$segue_save_LIBS
    LIBEV_CFLAGS=
  ])
  AC_SUBST([LIBEV_CFLAGS])
  AC_SUBST([LIBEV_LIBS])
])
