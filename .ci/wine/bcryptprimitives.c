/* bcryptprimitives.dll for wine 8, which has none: Go >= 1.22 imports
   ProcessPrng from it at start. Fills buf from RtlGenRandom
   (advapi32!SystemFunction036), in chunks below 4 GiB. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buf, ULONG len);

BOOL WINAPI ProcessPrng(PBYTE buf, SIZE_T len) {
    while (len > 0) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(buf, n)) return FALSE;
        buf += n, len -= n;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE h, DWORD reason, LPVOID reserved) { return TRUE; }
