// The API documentation, from local assets (works offline): Swagger UI over the server's OpenAPI document,
// with deep links off (they put a link inside each operation's summary button: nested controls) and
// colours darkened where Swagger UI's fall short of WCAG AA contrast (docs.css).
import SwaggerUIBundle from "swagger-ui-dist/swagger-ui-bundle.js";
import "swagger-ui-dist/swagger-ui.css";
import "./docs.css";

SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger", deepLinking: false });
