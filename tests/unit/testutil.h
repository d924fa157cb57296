/* Common includes for the cmocka unit tests. */
#ifndef FB_TESTUTIL_H
#define FB_TESTUTIL_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#endif
