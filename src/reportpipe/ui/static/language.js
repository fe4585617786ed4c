// Airflow's UI keeps the language it shows in localStorage (i18next), where no server can see it: the
// operator's page asks for the same one (?lang=, remembered in a cookie) when it was served in another.
const chosen = localStorage.getItem("i18nextLng") || navigator.language || "en";
const wanted = chosen.toLowerCase().startsWith("zh") ? "zh-CN" : "en";
if (document.documentElement.lang !== wanted) {
  const url = new URL(window.location.href);
  url.searchParams.set("lang", wanted);
  window.location.replace(url);
}
