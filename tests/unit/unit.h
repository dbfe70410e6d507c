/* unit.h - includes every cmocka test needs, in the order cmocka wants. */
#ifndef ZKEEP_TESTS_UNIT_H
#define ZKEEP_TESTS_UNIT_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "base/zkeep.h"
#endif
