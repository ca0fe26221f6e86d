// Start GOV.UK Frontend's components. static/build.sh copies this file beside govuk/ in static/dist.
import { initAll } from "./govuk/govuk-frontend.min.js";

initAll();
