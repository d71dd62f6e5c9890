/**
 * uap-core and ua-parser-js name the same browsers and systems differently
 * ("Mac OS X" / "Mac OS", "UC Browser" / "UCBrowser", "Chrome Mobile" /
 * "Mobile Chrome"). This maps both to one key before comparing.
 */
const aliases: Record<string, string> = {
  macosx: 'macos',
  symbianos: 'symbian',
  blackberryos: 'blackberry',
  windowsphoneos: 'windowsphone',
  nokiaseries40: 'series40',
  iemobile: 'ie',
  amazonsilk: 'silk',
  silk: 'silk',
  qqbrowsermobile: 'qq',
  qqbrowser: 'qq',
  ucbrowser: 'uc',
  nokiabrowser: 'nokia',
  chromemobile: 'chrome',
  mobilechrome: 'chrome',
  chromemobileios: 'chrome',
  firefoxmobile: 'firefox',
  mobilefirefox: 'firefox',
  firefoxios: 'firefox',
  operamobile: 'opera',
  mobilesafari: 'safari',
  mobilesafariuiwkwebview: 'safari',
  chromemobilewebview: 'chrome',
  chromewebview: 'chrome',
  samsunginternet: 'samsung',
  samsungbrowser: 'samsung',
  yandexbrowser: 'yandex',
  androidbrowser: 'android',
  edgemobile: 'edge',
  operamini: 'operamini',
  huaweibrowser: 'huawei',
  miuibrowser: 'miui',
  baidubrowser: 'baidu',
  baiduboxapp: 'baidu',
};

export function uaNameKey(name: string | null | undefined): string {
  if (name === undefined || name === null || name === '' || name === 'Other') return 'other';
  const k = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  return aliases[k] ?? k;
}
