/*
 * base/banned.h - libc calls that must not be used in zkeep.
 *
 * Included (through zkeep.h) by every source file, after the system headers.
 * A banned call becomes a compile error naming the function. Why each is banned:
 *   strcpy, strcat, sprintf, vsprintf, gets: no bound on the destination.
 *   strncpy, strncat: truncate silently and strncpy may not terminate.
 *   strtok: hidden global state.
 *   atoi, atol, atoll, strtol, strtoul, strtoll, strtoull, sscanf: silent
 *     garbage on bad input; numbers are parsed only in parse.c, which checks
 *     the whole string, the range and the sign.
 *   system, popen: go through a shell; zkeep runs argv vectors (spawn.h).
 *   localtime, gmtime, ctime, asctime: static buffers; use the _r versions.
 */
#ifndef ZKEEP_BANNED_H
#define ZKEEP_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef gets
#define gets(x) BANNED(gets)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef system
#define system(x) BANNED(system)
#undef popen
#define popen(x, y) BANNED(popen)
#undef localtime
#define localtime(x) BANNED(localtime)
#undef gmtime
#define gmtime(x) BANNED(gmtime)
#undef ctime
#define ctime(x) BANNED(ctime)
#undef asctime
#define asctime(x) BANNED(asctime)

#ifndef ZKEEP_NUMBER_PARSER /* defined only by parse.c */
#undef atoi
#define atoi(x) BANNED(atoi)
#undef atol
#define atol(x) BANNED(atol)
#undef atoll
#define atoll(x) BANNED(atoll)
#undef strtol
#define strtol(x, y, z) BANNED(strtol)
#undef strtoul
#define strtoul(x, y, z) BANNED(strtoul)
#undef strtoll
#define strtoll(x, y, z) BANNED(strtoll)
#undef strtoull
#define strtoull(x, y, z) BANNED(strtoull)
#undef sscanf
#define sscanf(...) BANNED(sscanf)
#endif

#endif
