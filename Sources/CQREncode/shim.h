// libqrencode (Debian libqrencode-dev): QR codes for the applicant's letter.
#include <qrencode.h>
