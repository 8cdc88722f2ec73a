# Debian's Chromium and chromedriver for the portal's browser tests
# (tests/tests/portal_browser.rs), and a Chinese font for its screenshots,
# installed when missing.
chromium_ensure() {
  if command -v chromium >/dev/null && command -v chromedriver >/dev/null \
    && [ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; then
    return 0
  fi
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "socsec: installing chromium and chromium-driver for the browser tests" >&2
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei >&2
}
